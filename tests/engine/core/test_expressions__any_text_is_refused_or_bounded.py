"""Property: whatever text a designer types as a CEL expression and whatever data a run holds,
compiling and evaluating either answers or raises ExpressionError naming what went wrong —
never another exception, and never more than the cost budget allows (a bomb is refused
before it runs)."""

import time
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.core.expressions import ExpressionError, compile_expression

NAMES = ["vars.a", "vars.b", "input.n", "input.s", "x", "y"]
ATOMS = st.one_of(
    st.sampled_from(NAMES),
    st.integers(-(10**6), 10**6).map(str),
    st.text(alphabet="abc'\" ", max_size=4).map(lambda t: repr(t)),
    st.sampled_from(["true", "false", "null", "[]", "{}", "[1, 2, 3]"]),
)


def _expressions() -> st.SearchStrategy[str]:
    return st.recursive(
        ATOMS,
        lambda inner: st.one_of(
            st.tuples(
                inner,
                st.sampled_from(["+", "-", "*", "/", "%", "==", "<", "&&", "||", "in"]),
                inner,
            ).map(" ".join),
            st.tuples(inner, st.sampled_from(["map", "filter", "all", "exists"]), inner).map(
                lambda t: f"{t[0]}.{t[1]}(x, {t[2]})"
            ),
            st.tuples(st.sampled_from(["size", "string", "int", "double"]), inner).map(
                lambda t: f"{t[0]}({t[1]})"
            ),
            inner.map(lambda e: f"({e})"),
            st.tuples(inner, inner).map(lambda t: f"[{t[0]}, {t[1]}]"),
        ),
        max_leaves=12,
    )


JSON = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-1000, 1000), st.text(max_size=5)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=6), st.dictionaries(st.text(max_size=3), inner, max_size=4)
    ),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_expressions(), st.fixed_dictionaries({"a": JSON, "b": JSON}), JSON)
def test_any_expression_answers_or_is_refused_by_name(
    source: str, variables: dict[str, Any], data: Any
) -> None:
    scope = {"vars": variables, "input": {"n": 3, "s": "abc", "data": data}}
    started = time.perf_counter()
    try:
        compile_expression(source).evaluate(scope)
    except ExpressionError as refused:
        answer = str(refused)
    else:
        answer = "evaluated"
    assert answer
    # Bounded: the cost budget refuses what would take long, before it runs.
    assert time.perf_counter() - started < 2.0


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_any_text_compiles_or_is_refused_by_name(source: str) -> None:
    try:
        compile_expression(source)
    except ExpressionError as refused:
        answer = str(refused)
    else:
        answer = "compiled"
    assert answer
