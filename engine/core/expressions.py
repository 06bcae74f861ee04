"""CEL expressions for conditions, event filters, templates and transforms.

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

import base64
import dataclasses
import datetime as dt
import functools
import json
import re
import uuid
from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal
from typing import Any

import cel

__all__ = [
    "MAX_COMPREHENSION_DEPTH",
    "MAX_EXPRESSION_LENGTH",
    "MAX_SCOPE_BYTES",
    "Expression",
    "ExpressionError",
    "Template",
    "compile_expression",
    "compile_template",
    "evaluate_condition",
    "render_template",
    "render_value",
]

MAX_EXPRESSION_LENGTH = 4_000
MAX_SCOPE_BYTES = 1_000_000

# CEL has no loops or recursion, and its parser caps nesting at 96 levels, but comprehensions
# multiply: `[0,1].all(a, [0,1].all(b, ...))` doubles its work per level (20 levels, 314
# characters, took a second here; 4,000 characters would never finish). cel offers no timeout,
# and a Rust call cannot be interrupted from Python short of a separate process (far too slow
# per evaluation), so the cost is bounded statically: this nesting limit, MAX_EXPRESSION_LENGTH
# and MAX_SCOPE_BYTES. Two levels still allow `orders.exists(o, o.items.all(i, ...))`; the
# residual worst case is quadratic in the largest list of the scope, left to the step timeout.
MAX_COMPREHENSION_DEPTH = 2

_CACHE_SIZE = 1024
_COMPREHENSIONS = "all|exists_one|exists|map|filter"

_RAW_STRING = r"(?:[bB]?[rR]|[rR][bB])(?:'''.*?'''|\"\"\".*?\"\"\"|'[^'\n]*'|\"[^\"\n]*\")"
_STRING = (
    r"[bB]?(?:'''(?:\\.|[^\\])*?'''|\"\"\"(?:\\.|[^\\])*?\"\"\""
    r"|'(?:\\.|[^'\\\n])*'|\"(?:\\.|[^\"\\\n])*\")"
)
_STRING_LITERAL = re.compile(f"{_RAW_STRING}|{_STRING}", re.DOTALL)
_STRING_OR_COMMENT = re.compile(f"{_RAW_STRING}|{_STRING}|//[^\n]*", re.DOTALL)
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
    names: tuple[str, ...]
    variables: frozenset[str]
    functions: frozenset[str]


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
        size, adapt = _measure(variables)
        if size is None:
            raise self._error("the scope is nested too deeply or refers to itself")
        if size > MAX_SCOPE_BYTES:
            raise self._error(
                f"the values used are about {size:,} bytes; the limit is {MAX_SCOPE_BYTES:,}"
            )
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

    def _adapt_scope(self, variables: dict[str, Any]) -> dict[str, Any]:
        try:
            return {name: _to_cel(value) for name, value in variables.items()}
        except _Unsupported as exc:
            raise self._error(str(exc)) from None

    def _plain(self, result: Any) -> Any:
        if result is None or type(result) in (bool, int, float):
            return result
        if type(result) is str:
            size: int | None = len(result)
            foreign = False
        else:
            measure = _Measure()
            size = _json_size(result, measure)
            foreign = measure.foreign
        if size is None or size > MAX_SCOPE_BYTES:
            raise self._error(f"the result is larger than {MAX_SCOPE_BYTES:,} bytes")
        return _to_plain(result) if foreign else result

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


@functools.lru_cache(maxsize=_CACHE_SIZE)
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
    return _Compiled(
        program=program,
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


@dataclasses.dataclass(frozen=True, slots=True)
class Template:
    """Text with `{{ expr }}` parts, compiled up front so validation sees every error."""

    source: str
    variables: frozenset[str]
    node: str | None
    field: str | None
    _parts: tuple[str | tuple[int, Expression], ...] = dataclasses.field(repr=False, compare=False)
    _whole: tuple[int, Expression] | None = dataclasses.field(repr=False, compare=False)

    def render(self, scope: Mapping[str, Any]) -> Any:
        """Return the raw value of a lone `{{ expr }}`, else the text with every part filled in."""
        if self._whole is not None:
            return self._evaluate(*self._whole, scope)
        pieces = [
            part if isinstance(part, str) else _to_text(self._evaluate(*part, scope))
            for part in self._parts
        ]
        return "".join(pieces)

    def _evaluate(self, offset: int, expression: Expression, scope: Mapping[str, Any]) -> Any:
        try:
            return expression.evaluate(scope)
        except ExpressionError as exc:
            raise ExpressionError(
                exc.message,
                expression=self.source,
                position=offset,
                node=self.node,
                field=self.field,
            ) from None


def compile_template(
    template: str, *, node: str | None = None, field: str | None = None
) -> Template:
    """Compile every `{{ expr }}` part of a template, or raise ExpressionError."""
    if not isinstance(template, str):
        raise ExpressionError(
            f"a template must be text, got {type(template).__name__}",
            expression=repr(template),
            node=node,
            field=field,
        )
    try:
        parts, whole, variables = _compile_template(template)
    except ExpressionError as exc:
        raise exc.with_location(node, field) from None
    return Template(template, variables, node, field, parts, whole)


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _compile_template(
    template: str,
) -> tuple[tuple[str | tuple[int, Expression], ...], tuple[int, Expression] | None, frozenset[str]]:
    parts: list[str | tuple[int, Expression]] = []
    for piece in _split_template(template):
        if isinstance(piece, str):
            parts.append(piece)
            continue
        offset, source = piece
        try:
            parts.append((offset, compile_expression(source)))
        except ExpressionError as exc:
            raise ExpressionError(
                exc.message,
                expression=template,
                position=offset + (exc.position or 0),
            ) from None
    expressions = [part for part in parts if not isinstance(part, str)]
    literals = [part for part in parts if isinstance(part, str)]
    whole = expressions[0] if len(expressions) == 1 and not "".join(literals).strip() else None
    variables = frozenset(name for _, expression in expressions for name in expression.variables)
    return tuple(parts), whole, variables


def _split_template(template: str) -> Iterator[str | tuple[int, str]]:
    """Yield literal text and (offset, source) for each `{{ expr }}`; a stray `}}` is text."""
    cursor = 0
    while (opening := template.find("{{", cursor)) >= 0:
        start = opening + 2
        end = _closing_braces(template, start)
        if end < 0:
            raise ExpressionError(
                "'{{' is never closed by '}}'", expression=template, position=opening
            )
        if opening > cursor:
            yield template[cursor:opening]
        source = template[start:end]
        if not source.strip():
            raise ExpressionError(
                "'{{ }}' holds no expression", expression=template, position=opening
            )
        lead = len(source) - len(source.lstrip())
        yield start + lead, source.strip()
        cursor = end + 2
    if cursor < len(template):
        yield template[cursor:]


def _closing_braces(template: str, start: int) -> int:
    """Find the `}}` closing a part, skipping CEL strings and map literals inside it."""
    depth = 0
    index = start
    while index < len(template):
        char = template[index]
        if char in "'\"rRbB":
            literal = _STRING_LITERAL.match(template, index)
            if literal and (char in "'\"" or not _is_identifier_char(template, index - 1)):
                index = literal.end()
                continue
        if char == "{":
            depth += 1
        elif char == "}":
            if depth == 0 and template.startswith("}}", index):
                return index
            depth = max(depth - 1, 0)
        index += 1
    return -1


def _is_identifier_char(text: str, index: int) -> bool:
    return index >= 0 and (text[index].isalnum() or text[index] == "_")


def render_template(
    template: str,
    scope: Mapping[str, Any],
    *,
    node: str | None = None,
    field: str | None = None,
) -> Any:
    """Render a template: a lone `{{ expr }}` keeps its value's type, anything else is text."""
    return compile_template(template, node=node, field=field).render(scope)


def render_value(
    value: Any,
    scope: Mapping[str, Any],
    *,
    node: str | None = None,
    field: str | None = None,
) -> Any:
    """Render every template string inside nested dicts and lists; other leaves stay as they are."""
    if isinstance(value, str):
        return render_template(value, scope, node=node, field=field)
    if isinstance(value, Mapping):
        return {
            key: render_value(item, scope, node=node, field=_path(field, f".{key}"))
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [
            render_value(item, scope, node=node, field=_path(field, f"[{index}]"))
            for index, item in enumerate(value)
        ]
    return value


def _path(field: str | None, step: str) -> str:
    return f"{field}{step}" if field else step.lstrip(".")


class _Unsupported(ValueError):
    pass


class _Measure:
    """json.dumps hook: sizes what JSON cannot encode and notes what cel cannot take."""

    __slots__ = ("adapt", "extra", "foreign")

    def __init__(self) -> None:
        self.extra = 0
        self.foreign = False
        self.adapt = False

    def __call__(self, value: Any) -> None:
        self.foreign = True
        if isinstance(value, bytes | bytearray):
            self.extra += len(value)
            self.adapt = self.adapt or isinstance(value, bytearray)
            return
        if isinstance(value, dt.datetime):
            self.adapt = self.adapt or type(value.tzinfo) is not dt.timezone
        elif not isinstance(value, dt.timedelta | Decimal):
            self.adapt = True
        self.extra += len(str(value))


def _json_size(value: Any, measure: _Measure) -> int | None:
    """Estimate the JSON size of a value; None when it is circular or too deep."""
    try:
        return len(json.dumps(value, default=measure, ensure_ascii=False)) + measure.extra
    except (ValueError, RecursionError):
        # json's C recursion guard trips long before the depth (about 10,000) at which cel's
        # conversion overflows the native stack and kills the process.
        return None


def _measure(scope: dict[str, Any]) -> tuple[int | None, bool]:
    """Estimate a scope's JSON size cheaply and say whether it needs adapting for cel."""
    measure = _Measure()
    try:
        return _json_size(scope, measure), measure.adapt
    except TypeError:
        pass
    # Keys JSON cannot encode (tuples, dates): adapt first, then measure the adapted copy.
    try:
        adapted = _to_cel(scope)
    except _Unsupported:
        return 0, True
    except RecursionError:
        return None, True
    return _json_size(adapted, _Measure()), True


def _to_cel(value: Any) -> Any:
    """Adapt a scope value to types cel converts faithfully."""
    if value is None or isinstance(value, str | bool | int | float | bytes | Decimal):
        return value
    if isinstance(value, Mapping):
        return {_to_cel_key(key): _to_cel(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_to_cel(item) for item in value]
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        offset = value.utcoffset()
        return value.astimezone(dt.timezone(offset if offset is not None else dt.timedelta()))
    if isinstance(value, dt.timedelta):
        return value
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, bytearray):
        return bytes(value)
    if isinstance(value, set | frozenset):
        try:
            ordered = sorted(value)
        except TypeError:
            ordered = sorted(value, key=repr)
        # Sorted so replays see the same order whatever the hash seed.
        return [_to_cel(item) for item in ordered]
    raise _Unsupported(f"{type(value).__name__} values cannot be used in expressions")


def _to_cel_key(key: Any) -> str | int:
    if isinstance(key, str) or (isinstance(key, int) and not isinstance(key, bool)):
        return key
    # As JSON would store them, which is what a replayed run reads back.
    return json.dumps(key) if isinstance(key, bool | float) or key is None else str(key)


def _to_plain(value: Any) -> Any:
    """Turn a cel result into JSON-like Python values."""
    if isinstance(value, dict):
        return {key: _to_plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_to_plain(item) for item in value]
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return _duration_text(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, cel.OptionalValue):
        return _to_plain(value.value()) if value.has_value() else None
    return value


def _duration_text(value: dt.timedelta) -> str:
    micros = (value.days * 86_400 + value.seconds) * 1_000_000 + value.microseconds
    sign = "-" if micros < 0 else ""
    seconds, fraction = divmod(abs(micros), 1_000_000)
    decimals = f".{fraction:06d}".rstrip("0") if fraction else ""
    return f"{sign}{seconds}{decimals}s"


def _to_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return str(value)


def _type_name(value: Any) -> str:
    names = {bool: "bool", int: "int", float: "double", str: "string", dict: "map", list: "list"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


def _tidy(text: str) -> str:
    """Drop the library's generic advice so the message fits on one line."""
    text = _ADVICE.sub("", text).strip()
    return text[:1].lower() + text[1:] if text else "evaluation failed"
