"""An expression whose work would exceed MAX_EVALUATION_COST on the values it is given is refused
before cel runs, with an error naming the expression and the budget; ordinary expressions, even
over large lists, still run."""

import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine.core.cel_cost import parse
from engine.core.expressions import (
    MAX_EVALUATION_COST,
    ExpressionError,
    compile_expression,
    event_passes_filter,
)

BOMB = "vars.a.map(x, vars.a.map(y, vars.a))"
BUDGET = f"the budget is {MAX_EVALUATION_COST:,}"


def evaluate(source: str, **scope: object) -> object:
    return compile_expression(source).evaluate(scope)


def _limit_memory() -> None:
    limit = 1_500_000_000
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def test_the_nested_map_bomb_fails_fast_in_a_process_with_little_memory() -> None:
    """Evaluated, the bomb would build a billion values (about 40 s and gigabytes with cel 0.10):
    a process limited to 1.5 GB of address space refuses it within seconds and lives on."""
    code = (
        "import time; from engine.core.expressions import compile_expression, ExpressionError\n"
        "started = time.monotonic()\n"
        f"try: compile_expression({BOMB!r}).evaluate({{'vars': {{'a': list(range(1000))}}}})\n"
        "except ExpressionError as error: print(error)\n"
        "print(f'{time.monotonic() - started:.3f}')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=Path(__file__).parents[3],
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=_limit_memory,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    message, seconds = done.stdout.strip().splitlines()
    assert BOMB in message and BUDGET in message
    assert float(seconds) < 1.0


def test_the_refusal_names_the_expression_the_cost_and_the_budget() -> None:
    """The message says which expression, about how much it would cost and what the budget is."""
    with pytest.raises(ExpressionError) as error:
        compile_expression(BOMB, node="explode", field="output").evaluate(
            {"vars": {"a": list(range(200))}}
        )
    text = str(error.value)
    assert text.startswith('node "explode", field "output": ')
    assert f"{BOMB!r} would cost about " in text and BUDGET in text
    assert "grows with the square" in text


def test_small_values_let_the_same_expression_run() -> None:
    """The budget is about the values, not the syntax: on a short list the bomb is harmless."""
    result = evaluate(BOMB, vars={"a": [1, 2]})
    assert result == [[[1, 2], [1, 2]], [[1, 2], [1, 2]]]


def test_map_over_a_long_list_runs_until_its_square_exceeds_the_budget() -> None:
    """cel's map copies the list built so far on every element, so its cost is quadratic:
    2,000 prices map, 10,000 are refused; a linear `all` over 20,000 records runs."""
    items = [{"sku": f"S-{n}", "price": n} for n in range(20_000)]
    assert evaluate("input.items.map(i, i.price)", input={"items": items[:2_000]}) == list(
        range(2_000)
    )
    with pytest.raises(ExpressionError, match=BUDGET):
        evaluate("input.items.map(i, i.price)", input={"items": items[:10_000]})
    assert evaluate("input.items.all(i, i.price >= 0)", input={"items": items}) is True


@pytest.mark.parametrize(
    "source",
    [
        "[" + ", ".join(["vars.a"] * 300) + "].size()",  # every copy is converted
        "vars.a.map(x, vars.a).size()",  # a cheap result still builds the copies
        "vars.a.filter(x, vars.a.exists(y, y == x)).size()",
        "vars.a.all(x, size(vars.a + vars.a + vars.a) > 0)",
    ],
)
def test_copies_of_large_values_count_even_when_the_result_is_small(source: str) -> None:
    """Selecting, concatenating and listing values copies them: the estimate counts each copy."""
    with pytest.raises(ExpressionError, match=BUDGET):
        evaluate(source, vars={"a": list(range(100_000))})


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("{'a': [1, 2], 3: 'c'}.a.map(v, v > 1, v * 3)", [6]),
        ("!!true && -(-1) == 1 && 2u > 1u && 0x10 == 16 && 1.5e1 == 15.0", True),
        ("r'\\d' + '\\'' == '\\\\d\\'' ? b'ok' == b\"ok\" : false", True),
        ("has(input.y) ? input.y : [1, 2, 3].exists_one(n, n in [2]) // a comment", True),
        ("{'k': 1}.all(key, key.startsWith('k')) && input['x'] == 0 && input.x < 1", True),
        ("'''two\nlines''' + \"\"\"more\"\"\" != '' && [1, 2][1] % 2 == 0 && 7 / 2 * 2 == 6", True),
    ],
)
def test_every_form_of_cel_syntax_is_estimated_and_runs(source: str, expected: object) -> None:
    """The estimate parses the syntax cel accepts (operators, macros, literals, maps, comments)."""
    parse(source)
    assert evaluate(source, input={"x": 0}) == expected


def test_a_wait_filter_bomb_matches_nothing_and_returns_at_once() -> None:
    """Event filters run in the web request: a bomb there is refused, so the event passes by."""
    started = time.monotonic()
    payload = {"a": list(range(1000))}
    assert (
        event_passes_filter("event.a.map(x, event.a.map(y, event.a)) != []", payload, {}) is False
    )
    assert time.monotonic() - started < 1.0
