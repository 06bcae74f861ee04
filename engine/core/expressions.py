"""CEL expressions for conditions, event filters, templates and transforms.

Templates (`{{ expr }}` in text) are in engine.core.templates; adapting values for cel is in
engine.core.cel_values.

Expressions are written in CEL (https://cel.dev), evaluated by the `cel` package (a Rust
interpreter); nothing here ever reaches Python's `eval`. The engine passes these names:

- `input`, `vars`, `event`, `item`, `index`: JSON-like values.
- `nodes`: node id → `{"output": ...}`; use `nodes['send-mail'].output` for ids with dashes.
- `now`: an aware `datetime`, which cel turns into a CEL timestamp, so `now > timestamp(input.due)`
  and `now - duration('1h')` work.

Scope values cel cannot take are adapted first: naive datetimes are read as UTC (cel would read
them in the machine's local zone), zoneinfo datetimes get their fixed UTC offset (cel accepts only
`datetime.timezone`), dates, times and UUIDs become ISO text, sets become sorted lists.
Results are plain JSON-like Python values: timestamps come back as ISO 8601 text, durations as
`"90s"` and bytes as base64, following CEL's JSON mapping.
"""

import dataclasses
import functools
import re
from collections.abc import Callable, Mapping
from typing import Any

import cel

from engine.core.cel_cost import (
    MAX_EVALUATION_COST,
    RAW_STRING,
    STRING,
    CostSyntaxError,
    Node,
    Shape,
    estimate_cost,
    parse,
    shape_of,
)
from engine.core.cel_values import (
    Measure,
    UnsupportedValue,
    json_size,
    measure_scope,
    to_cel,
    to_plain,
)

__all__ = [
    "MAX_COMPREHENSION_DEPTH",
    "MAX_EVALUATION_COST",
    "MAX_EXPRESSION_LENGTH",
    "MAX_SCOPE_BYTES",
    "Expression",
    "ExpressionError",
    "compile_expression",
    "evaluate_condition",
]

MAX_EXPRESSION_LENGTH = 4_000
MAX_SCOPE_BYTES = 1_000_000

# CEL has no loops or recursion, and its parser caps nesting at 96 levels, but comprehensions
# multiply: `[0,1].all(a, [0,1].all(b, ...))` doubles its work per level (20 levels, 314
# characters, took a second here; 4,000 characters would never finish). cel offers no timeout,
# and a Rust call cannot be interrupted from Python short of a separate process (far too slow
# per evaluation), so the cost is bounded statically: this nesting limit, MAX_EXPRESSION_LENGTH
# and MAX_SCOPE_BYTES. Two levels still allow `orders.exists(o, o.items.all(i, ...))`; the
# residual worst case (polynomial in the sizes of the scope's values) is refused before cel runs
# when it would exceed MAX_EVALUATION_COST (engine.core.cel_cost estimates it).
MAX_COMPREHENSION_DEPTH = 2

# Compiled programs kept per process, for expressions and templates alike.
CACHE_SIZE = 1024
_COMPREHENSIONS = "all|exists_one|exists|map|filter"

# A CEL string literal: what templates skip when they look for the closing braces.
STRING_LITERAL = re.compile(f"{RAW_STRING}|{STRING}", re.DOTALL)
_STRING_OR_COMMENT = re.compile(f"{RAW_STRING}|{STRING}|//[^\n]*", re.DOTALL)
_COMPREHENSION_CALL = re.compile(
    rf"\.\s*(?P<macro>{_COMPREHENSIONS})\s*(?P<paren>\()(?:\s*(?P<bound>[A-Za-z_]\w*)\s*,)?"
)
_PARSE_ERROR = re.compile(r"<input>:(\d+):(\d+): ([^\n]*)")
_PARSER_MESSAGE = re.compile(r'msg: "([^"]*)"')
_PARSER_WORDING = (
    ("Syntax error", "syntax error"),
    ("mismatched input ", "unexpected "),
    ("extraneous input ", "unexpected "),
    ("token recognition error at: ", "unrecognised text "),
)
_UNDEFINED = re.compile(r"Undefined variable or function: '([^']*)'")
_ADVICE = re.compile(r"\.? (?:Check|Convert|CEL does not) .*$", re.DOTALL)
_CEL_ERRORS = (RuntimeError, LookupError, TypeError, ValueError, ArithmeticError)


class ExpressionError(ValueError):
    """An expression or template that cannot be compiled or evaluated."""

    def __init__(
        self,
        message: str,
        *,
        expression: str,
        position: int | None = None,
        node: str | None = None,
        field: str | None = None,
    ) -> None:
        super().__init__(message)
        self.expression = expression
        self.message = message
        self.position = position
        self.node = node
        self.field = field

    def __str__(self) -> str:
        where = []
        if self.node is not None:
            where.append(f'node "{self.node}"')
        if self.field is not None:
            where.append(f'field "{self.field}"')
        if self.position is not None:
            where.append(f"at {self.position}")
        return f"{', '.join(where)}: {self.message}" if where else self.message

    def __reduce__(self) -> tuple[Callable[..., "ExpressionError"], tuple[Any, ...]]:
        # Keyword-only arguments defeat BaseException's default pickling (Celery results).
        return _rebuild_error, (
            self.message,
            self.expression,
            self.position,
            self.node,
            self.field,
        )

    def with_location(self, node: str | None, field: str | None) -> "ExpressionError":
        """Return a copy naming the node and field; None keeps the location already known."""
        return ExpressionError(
            self.message,
            expression=self.expression,
            position=self.position,
            node=self.node if node is None else node,
            field=self.field if field is None else field,
        )


def _rebuild_error(
    message: str, expression: str, position: int | None, node: str | None, field: str | None
) -> ExpressionError:
    return ExpressionError(
        message, expression=expression, position=position, node=node, field=field
    )


@dataclasses.dataclass(frozen=True, slots=True)
class _Compiled:
    program: cel.Program
    tree: Node
    names: tuple[str, ...]
    variables: frozenset[str]
    functions: frozenset[str]
    # The largest scope size known to fit the budget whatever its shape; the estimate grows
    # with the size, so smaller scopes skip it. Mutable: a race only repeats an estimate.
    fits_up_to: list[int] = dataclasses.field(default_factory=lambda: [-1])


@dataclasses.dataclass(frozen=True, slots=True)
class Expression:
    """A compiled CEL expression, evaluated against a scope of named values."""

    source: str
    variables: frozenset[str]
    node: str | None
    field: str | None
    _compiled: _Compiled = dataclasses.field(repr=False, compare=False)

    def evaluate(self, scope: Mapping[str, Any]) -> Any:
        """Evaluate against the scope and return a plain JSON-like Python value."""
        compiled = self._compiled
        # Only the names the expression uses are converted: cel's conversion is the main cost.
        variables = {name: scope[name] for name in compiled.names if name in scope}
        size, adapt = measure_scope(variables)
        if size is None:
            raise self._error("the scope is nested too deeply or refers to itself")
        if size > MAX_SCOPE_BYTES:
            raise self._error(
                f"the values used are about {size:,} bytes; the limit is {MAX_SCOPE_BYTES:,}"
            )
        self._check_cost(variables, size)
        if adapt:
            variables = self._adapt_scope(variables)
        try:
            result = compiled.program.execute(variables)
        except _CEL_ERRORS as exc:
            if adapt or not str(exc).startswith("Conversion Error"):
                raise self._error(self._runtime_message(exc, scope)) from None
            # Map keys cel rejects (None, floats) pass json unnoticed: adapt, then retry once.
            try:
                result = compiled.program.execute(self._adapt_scope(variables))
            except _CEL_ERRORS as retry_exc:
                raise self._error(self._runtime_message(retry_exc, scope)) from None
        return self._plain(result)

    def _check_cost(self, variables: dict[str, Any], size: int) -> None:
        """Refuse before cel runs what would cost more than the budget (cel cannot be stopped)."""
        tree, fits_up_to = self._compiled.tree, self._compiled.fits_up_to
        if size <= fits_up_to[0]:
            return
        # Every value used is at most `size` units: when even that bound fits, skip sizing them.
        # All names count, present or not, so that the bound holds for any scope of this size.
        whole = Shape(size, size)
        if estimate_cost(tree, dict.fromkeys(self._compiled.names, whole)) <= MAX_EVALUATION_COST:
            fits_up_to[0] = max(fits_up_to[0], size)
            return
        try:
            shapes = {name: shape_of(value) for name, value in variables.items()}
        except RecursionError:
            raise self._error("the values are nested too deeply to bound the cost") from None
        cost = estimate_cost(tree, shapes)
        if cost > MAX_EVALUATION_COST:
            shown = self.source if len(self.source) <= 80 else self.source[:77] + "..."
            raise self._error(
                f"{shown!r} would cost about {cost:,} units on these values; the budget is "
                f"{MAX_EVALUATION_COST:,} (map and filter cost grows with the square of a "
                "list's length, and nesting multiplies)"
            )

    def _adapt_scope(self, variables: dict[str, Any]) -> dict[str, Any]:
        try:
            return {name: to_cel(value) for name, value in variables.items()}
        except UnsupportedValue as exc:
            raise self._error(str(exc)) from None

    def _plain(self, result: Any) -> Any:
        if result is None or type(result) in (bool, int, float):
            return result
        if type(result) is str:
            size: int | None = len(result)
            foreign = False
        else:
            measure = Measure()
            size = json_size(result, measure)
            foreign = measure.foreign
        if size is None or size > MAX_SCOPE_BYTES:
            raise self._error(f"the result is larger than {MAX_SCOPE_BYTES:,} bytes")
        return to_plain(result) if foreign else result

    def _runtime_message(self, exc: Exception, scope: Mapping[str, Any]) -> str:
        if isinstance(exc, KeyError):
            return f"no such key: {exc.args[0]!r}" if exc.args else "no such key"
        text = str(exc)
        undefined = _UNDEFINED.search(text)
        if undefined:
            name = undefined.group(1)
            if name in self._compiled.functions:
                return f"unknown function '{name}'"
            known = ", ".join(sorted(str(key) for key in scope)) or "nothing"
            return f"undefined variable '{name}' (the scope has {known})"
        if text.startswith("No such overload"):
            return (
                "no such overload: the operation is not defined for these value types "
                "(CEL never converts between int, double and string; use int(), double() "
                "or string())"
            )
        return _tidy(text)

    def _error(self, message: str) -> ExpressionError:
        return ExpressionError(message, expression=self.source, node=self.node, field=self.field)


def compile_expression(
    source: str, *, node: str | None = None, field: str | None = None
) -> Expression:
    """Compile a CEL expression once, or raise ExpressionError naming the node and field."""
    if not isinstance(source, str):
        raise ExpressionError(
            f"an expression must be text, got {type(source).__name__}",
            expression=repr(source),
            node=node,
            field=field,
        )
    try:
        compiled = _compile(source)
    except ExpressionError as exc:
        raise exc.with_location(node, field) from None
    return Expression(source, compiled.variables, node, field, compiled)


@functools.lru_cache(maxsize=CACHE_SIZE)
def _compile(source: str) -> _Compiled:
    if not source.strip():
        raise ExpressionError("the expression is empty", expression=source, position=0)
    if len(source) > MAX_EXPRESSION_LENGTH:
        raise ExpressionError(
            f"the expression is {len(source):,} characters long; "
            f"the limit is {MAX_EXPRESSION_LENGTH:,}",
            expression=source,
        )
    try:
        program = cel.compile(source)
    except ValueError as exc:
        message, position = _parse_error(source, str(exc))
        raise ExpressionError(message, expression=source, position=position) from None
    names = program.variables()
    bound = _check_comprehensions(source)
    try:
        tree = parse(source)
    except (CostSyntaxError, RecursionError):
        raise ExpressionError(
            "the expression's cost cannot be bounded (unusual syntax); write it more simply",
            expression=source,
        ) from None
    return _Compiled(
        program=program,
        tree=tree,
        names=tuple(names),
        # The library also lists names bound inside comprehensions, which the scope never holds.
        variables=frozenset(names) - bound,
        functions=frozenset(program.functions()),
    )


def _parse_error(source: str, text: str) -> tuple[str, int | None]:
    found = _PARSE_ERROR.search(text)
    if found is None:
        return _tidy(text), None
    line, column, message = int(found.group(1)), int(found.group(2)), found.group(3)
    inner = _PARSER_MESSAGE.search(message)
    if inner:
        message = f"syntax error: {inner.group(1).lower()}"
    message = re.sub(r" expecting .*$", "", message).replace("'<EOF>'", "end of input")
    for antlr, plain in _PARSER_WORDING:
        message = message.replace(antlr, plain)
    lines = source.split("\n")
    position = sum(len(row) + 1 for row in lines[: line - 1]) + column - 1
    return message, min(max(position, 0), len(source))


def _check_comprehensions(source: str) -> frozenset[str]:
    """Reject comprehensions nested deeper than the limit; return the names they bind."""
    code = _STRING_OR_COMMENT.sub(lambda match: " " * len(match.group()), source)
    opening: dict[int, int] = {}
    bound: set[str] = set()
    for call in _COMPREHENSION_CALL.finditer(code):
        opening[call.start("paren")] = call.start("macro")
        if call.group("bound"):
            bound.add(call.group("bound"))
    if not opening:
        return frozenset()
    depth = 0
    macro_parens: list[bool] = []
    for index, char in enumerate(code):
        if char == "(":
            is_macro = index in opening
            macro_parens.append(is_macro)
            depth += is_macro
            if depth > MAX_COMPREHENSION_DEPTH:
                raise ExpressionError(
                    f"comprehensions nest {depth} deep; the limit is "
                    f"{MAX_COMPREHENSION_DEPTH} because each level multiplies the work",
                    expression=source,
                    position=opening[index],
                )
        elif char == ")" and macro_parens and macro_parens.pop():
            depth -= 1
    return frozenset(bound)


def evaluate_condition(expression: Expression, scope: Mapping[str, Any]) -> bool:
    """Evaluate an expression that must yield true or false."""
    result = expression.evaluate(scope)
    if type(result) is not bool:
        raise expression._error(f"a condition must be true or false, got {_type_name(result)}")
    return result


def event_passes_filter(
    source: str | None, payload: Any, run_input: Any, scope: Mapping[str, Any] | None = None
) -> bool:
    """Whether an event passes a wait's filter: CEL over `event`, `input` and what the wait
    saw when it began (`scope`: a graph's `vars`, `nodes`, loop `item`). A filter that cannot
    be evaluated on this event does not match it."""
    if not source:
        return True
    names = {**(scope or {}), "event": payload, "input": run_input}
    try:
        return evaluate_condition(compile_expression(source), names)
    except ExpressionError:
        return False


def _type_name(value: Any) -> str:
    names = {bool: "bool", int: "int", float: "double", str: "string", dict: "map", list: "list"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


def _tidy(text: str) -> str:
    """Drop the library's generic advice so the message fits on one line."""
    text = _ADVICE.sub("", text).strip()
    return text[:1].lower() + text[1:] if text else "evaluation failed"
