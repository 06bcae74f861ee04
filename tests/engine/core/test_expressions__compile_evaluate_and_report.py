"""CEL expressions compile once, evaluate to plain values and report errors with their location."""

import datetime as dt
import pickle
import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from engine.core.expressions import (
    MAX_COMPREHENSION_DEPTH,
    MAX_EXPRESSION_LENGTH,
    MAX_SCOPE_BYTES,
    ExpressionError,
    compile_expression,
    evaluate_condition,
)

NOW = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)
ORDER = {
    "amount": 1500,
    "country": "DE",
    "customer": {"name": "Alice Smith", "email": "alice@example.com"},
    "items": [{"sku": "A-1", "qty": 2, "price": 9.5}, {"sku": "B-2", "qty": 1, "price": 20.0}],
    "tags": ["vip", "eu"],
    "note": None,
}


def evaluate(source: str, **scope: object) -> object:
    return compile_expression(source).evaluate(scope)


def test_arithmetic_and_comparison_read_the_input_map() -> None:
    """Arithmetic and comparisons work on values read from nested input maps."""
    assert evaluate("input.amount * 2 + 1", input=ORDER) == 3001
    assert evaluate("input.amount > 1000 && input.country == 'DE'", input=ORDER) is True
    assert evaluate("input.items[1].price / 4.0", input=ORDER) == 5.0
    assert evaluate("input.note == null", input=ORDER) is True


def test_in_and_list_macros_work_on_lists() -> None:
    """`in`, all(), exists(), filter() and map() work on lists from the scope."""
    assert evaluate("'vip' in input.tags && 'country' in input", input=ORDER) is True
    assert evaluate("input.items.all(i, i.qty > 0)", input=ORDER) is True
    assert evaluate("input.items.exists(i, i.sku.startsWith('B'))", input=ORDER) is True
    assert evaluate("input.items.filter(i, i.qty > 1).map(i, i.sku)", input=ORDER) == ["A-1"]


def test_string_functions_are_available() -> None:
    """The core string functions contains, startsWith, endsWith, matches and size work."""
    name = "input.customer.name"
    assert evaluate(f"{name}.contains('Smith') && {name}.startsWith('Al')", input=ORDER) is True
    assert evaluate("input.customer.email.endsWith('@example.com')", input=ORDER) is True
    assert evaluate("input.customer.email.matches('^[a-z]+@')", input=ORDER) is True
    assert evaluate(f"size({name}) + size(input.tags)", input=ORDER) == 13


def test_has_tells_present_keys_from_absent_ones() -> None:
    """has() is true for a present key and false for an absent one, without raising."""
    assert evaluate("has(input.customer.email)", input=ORDER) is True
    assert evaluate("has(input.discount)", input=ORDER) is False


def test_a_syntax_error_reports_its_character_position() -> None:
    """A syntax error carries the 0-based offset of the fault, across lines too."""
    with pytest.raises(ExpressionError) as first:
        compile_expression("input.amount >")
    assert first.value.position == 14
    assert "end of input" in first.value.message
    with pytest.raises(ExpressionError) as second:
        compile_expression("input.a +\n  (input.b")
    assert second.value.position == 20


def test_an_undefined_name_is_named_in_the_error() -> None:
    """Evaluating an undefined variable names it and lists what the scope holds."""
    with pytest.raises(ExpressionError) as error:
        evaluate("inptu.amount > 1", input=ORDER)
    assert "undefined variable 'inptu'" in error.value.message
    assert "input" in error.value.message


def test_a_missing_key_and_a_type_mismatch_are_expression_errors() -> None:
    """A missing map key and mixing types raise ExpressionError, not library exceptions."""
    with pytest.raises(ExpressionError, match="no such key: 'discount'"):
        evaluate("input.discount > 0", input=ORDER)
    with pytest.raises(ExpressionError, match="no such overload"):
        evaluate("input.amount + 'EUR'", input=ORDER)


def test_a_condition_must_yield_a_bool() -> None:
    """evaluate_condition returns bools and rejects any other result by its CEL type."""
    assert evaluate_condition(compile_expression("input.amount > 1000"), {"input": ORDER}) is True
    with pytest.raises(ExpressionError, match="must be true or false, got int"):
        evaluate_condition(compile_expression("input.amount"), {"input": ORDER})


def test_empty_and_overlong_expressions_are_rejected() -> None:
    """Empty sources and sources over MAX_EXPRESSION_LENGTH fail at compile time."""
    with pytest.raises(ExpressionError, match="empty"):
        compile_expression("   ")
    with pytest.raises(ExpressionError, match="the limit is 4,000"):
        compile_expression("1 + " * (MAX_EXPRESSION_LENGTH // 4) + "1")


def test_scopes_and_results_over_the_size_bound_are_rejected() -> None:
    """Used values and results over MAX_SCOPE_BYTES raise; unused names do not count."""
    big = "x" * (MAX_SCOPE_BYTES + 1)
    with pytest.raises(ExpressionError, match="the limit is 1,000,000"):
        evaluate("size(input.blob) > 0", input={"blob": big})
    assert evaluate("input.amount", input=ORDER, unused=big) == 1500
    half = "x" * (MAX_SCOPE_BYTES // 2 + 1)
    with pytest.raises(ExpressionError, match="result is larger"):
        evaluate("input.blob + input.blob", input={"blob": half})


def test_circular_and_very_deep_scopes_are_rejected() -> None:
    """Self-referencing or absurdly deep values fail cleanly instead of crashing cel."""
    circular: dict[str, object] = {}
    circular["self"] = circular
    deep: object = 1
    for _ in range(20_000):
        deep = [deep]
    for value in (circular, deep):
        with pytest.raises(ExpressionError, match="nested too deeply"):
            evaluate("input != null", input=value)


def test_now_compares_as_a_timestamp_and_results_come_back_as_iso_text() -> None:
    """`now` compares with CEL timestamps, and timestamp results come back as ISO 8601 text."""
    scope = {"now": NOW, "input": {"due": "2026-11-24T09:00:00Z"}}
    assert evaluate_condition(compile_expression("now > timestamp(input.due)"), scope) is True
    assert compile_expression("now - duration('90m')").evaluate(scope) == (
        "2026-11-25T10:30:00+00:00"
    )
    assert evaluate("duration('90.25s')") == "90.25s"


def test_naive_zoned_and_nested_datetimes_are_accepted() -> None:
    """Naive datetimes read as UTC, zoneinfo ones keep their offset, dates and sets convert."""
    berlin = NOW.astimezone(ZoneInfo("Europe/Berlin"))
    assert evaluate("now", now=NOW.replace(tzinfo=None)) == "2026-11-25T12:00:00+00:00"
    assert evaluate("now == input.at", now=berlin, input={"at": NOW}) is True
    value = {"when": NOW, "day": dt.date(2026, 1, 2), "ids": {3, 1, 2}}
    assert evaluate("input", input=value) == {
        "when": "2026-11-25T12:00:00+00:00",
        "day": "2026-01-02",
        "ids": [1, 2, 3],
    }


def test_errors_name_node_and_field_and_survive_pickling() -> None:
    """The message reads `node "…", field "…", at N: …`, and errors pickle for task results."""
    with pytest.raises(ExpressionError) as error:
        compile_expression("input.amount >", node="check", field="expression")
    expected = 'node "check", field "expression", at 14: syntax error: unexpected end of input'
    assert str(error.value) == expected
    assert str(pickle.loads(pickle.dumps(error.value))) == expected  # noqa: S301
    moved = ExpressionError("boom", expression="x").with_location("n2", "when")
    assert (moved.node, moved.field, str(moved)) == ("n2", "when", 'node "n2", field "when": boom')
    with pytest.raises(ExpressionError, match=r'^node "gate", field "if": undefined'):
        compile_expression("missing", node="gate", field="if").evaluate({})


def test_compiling_the_same_source_again_reuses_the_program() -> None:
    """A second compile of the same source is served from the cache as an equal Expression."""
    source = "input.amount > 1000 && input.items.size() == 2"
    first = compile_expression(source)
    second = compile_expression(source)
    assert first == second
    assert first._compiled is second._compiled
    assert first.variables == {"input"}


def test_python_injection_is_only_an_unknown_function() -> None:
    """Python-style code such as `__import__('os')` is not Python here, just a CEL error."""
    with pytest.raises(ExpressionError, match="unknown function '__import__'"):
        evaluate("__import__('os').system('echo pwned')")
    with pytest.raises(ExpressionError):
        compile_expression("exec('import os')\nos.system('id')")


def test_comprehensions_nested_too_deeply_are_rejected_at_compile_time() -> None:
    """Comprehensions nested deeper than the limit fail at the offending macro."""
    source = "true"
    for level in range(MAX_COMPREHENSION_DEPTH + 1):
        source = f"[0, 1].all(a{level}, {source})"
    with pytest.raises(ExpressionError, match="comprehensions nest 3 deep") as error:
        compile_expression(source)
    macros = [index for index in range(len(source)) if source.startswith("all(", index)]
    assert error.value.position == macros[MAX_COMPREHENSION_DEPTH]
    nested = compile_expression("input.items.exists(i, [1].all(q, q < i.qty)) || '.all(' == ''")
    assert nested.variables == {"input"}


def test_non_text_expressions_are_rejected() -> None:
    """Designer data that is not a string fails as an ExpressionError."""
    with pytest.raises(ExpressionError, match="must be text, got int"):
        compile_expression(42)  # type: ignore[arg-type]


def test_the_module_does_not_import_django() -> None:
    """engine.core.expressions stays plain Python, importable without Django."""
    code = (
        "import sys, engine.core.expressions; "
        "sys.exit(any(name.split('.')[0] == 'django' for name in sys.modules))"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parents[3])
