"""Templates: text with `{{ expr }}` parts, each a CEL expression (engine.core.expressions).

A lone `{{ expr }}` keeps its value's type; anything else renders as text.
"""

import dataclasses
import functools
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from engine.core.expressions import (
    CACHE_SIZE,
    STRING_LITERAL,
    Expression,
    ExpressionError,
    compile_expression,
)
from engine.core.values import to_text

__all__ = ["Template", "compile_template", "render_template", "render_value"]


@dataclasses.dataclass(frozen=True, slots=True)
class Template:
    """Text with `{{ expr }}` parts, compiled up front so validation sees every error."""

    source: str
    variables: frozenset[str]
    node: str | None
    field: str | None
    _parts: tuple[str | tuple[int, Expression], ...] = dataclasses.field(repr=False, compare=False)
    _whole: tuple[int, Expression] | None = dataclasses.field(repr=False, compare=False)

    @property
    def expressions(self) -> tuple[Expression, ...]:
        """Each `{{ expr }}` part, compiled, in order."""
        return tuple(part[1] for part in self._parts if not isinstance(part, str))

    def render(self, scope: Mapping[str, Any]) -> Any:
        """Return the raw value of a lone `{{ expr }}`, else the text with every part filled in."""
        if self._whole is not None:
            return self._evaluate(*self._whole, scope)
        return self.render_text(scope)

    def render_text(self, scope: Mapping[str, Any], as_text: Callable[[Any], str] = to_text) -> str:
        """The text with every part filled in, a lone `{{ expr }}` too, each value made text by
        `as_text` (an HTML body escapes it there)."""
        pieces = [
            part if isinstance(part, str) else as_text(self._evaluate(*part, scope))
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


@functools.lru_cache(maxsize=CACHE_SIZE)
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
            literal = STRING_LITERAL.match(template, index)
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
