"""The cost budget of a CEL evaluation, estimated before cel runs (see engine.core.expressions).

cel (a Rust interpreter) has no cost tracking, no timeout and cannot be interrupted, so an
expression like `vars.a.map(x, vars.a.map(y, vars.a))` over a 1,000-element list would fill
the worker's memory, and Celery would redeliver it to the next worker. Instead, an upper bound
of the work is computed from the expression's syntax tree and the sizes of the values in its
scope, and the evaluation is refused when the bound exceeds the budget.

The bound follows what cel does, measured on cel 0.10: `map` and `filter` copy the result built
so far on every element (their cost grows with the square of the list), selecting a list or map
field copies it, `+` copies both sides, and the result is converted into Python at the end.
`all`, `exists` and `exists_one` are linear. One unit is about one value copied.
"""

import dataclasses
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

__all__ = ["CostSyntaxError", "Node", "Shape", "estimate_cost", "parse", "shape_of"]

# Measured on cel 0.10: 10 million units take about half a second, and the result they can
# build (as Python objects) stays in the hundreds of megabytes.
MAX_EVALUATION_COST = 10_000_000

_MACROS = frozenset({"all", "exists", "exists_one", "map", "filter"})
# Functions whose result is one small value (a number, a bool, a timestamp, a type).
_SCALAR_FUNCTIONS = frozenset(
    {
        "size", "int", "uint", "double", "bool", "has", "contains", "startsWith", "endsWith",
        "matches", "type", "duration", "timestamp", "getFullYear", "getMonth", "getDayOfYear",
        "getDate", "getDayOfMonth", "getDayOfWeek", "getHours", "getMinutes", "getSeconds",
        "getMilliseconds",
    }
)  # fmt: skip
# CEL string and bytes literals, raw ones first: a backslash escapes nothing in them.
RAW_STRING = r"(?:[bB]?[rR]|[rR][bB])(?:'''.*?'''|\"\"\".*?\"\"\"|'[^'\n]*'|\"[^\"\n]*\")"
STRING = (
    r"[bB]?(?:'''(?:\\.|[^\\])*?'''|\"\"\"(?:\\.|[^\\])*?\"\"\""
    r"|'(?:\\.|[^'\\\n])*'|\"(?:\\.|[^\"\\\n])*\")"
)
_TOKEN = re.compile(
    "|".join(
        (
            r"(?P<space>\s+|//[^\n]*)",
            f"(?P<string>{RAW_STRING}|{STRING})",
            r"(?P<number>0[xX][0-9a-fA-F]+[uU]?|(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?[uU]?)",
            r"(?P<name>[A-Za-z_]\w*)",
            r"(?P<op>==|!=|<=|>=|&&|\|\||[-+*/%<>!?:.,()\[\]{}])",
        )
    ),
    re.DOTALL,
)
_BINARY = {
    "||": 1, "&&": 2,
    "==": 3, "!=": 3, "<": 3, "<=": 3, ">": 3, ">=": 3, "in": 3,
    "+": 4, "-": 4, "*": 5, "/": 5, "%": 5,
}  # fmt: skip


class CostSyntaxError(ValueError):
    """Syntax cel accepts but the cost estimate does not know: the expression is refused."""


@dataclasses.dataclass(frozen=True, slots=True)
class Node:
    """One node of an expression's syntax tree: `kind` says how `text` and `parts` are read."""

    kind: str  # literal, name, select, index, call, method, macro, list, map, unary, binary, cond
    text: str = ""  # literal source, name, field, function, macro, operator
    parts: tuple["Node", ...] = ()


@dataclasses.dataclass(frozen=True, slots=True)
class Shape:
    """Upper bounds for a value: its size in units, its length, its elements and its fields.

    `item` is None for an opaque value: any element may then be as large as the whole.
    """

    size: int
    length: int = 0
    item: "Shape | None" = None
    fields: Mapping[str, "Shape"] | None = None

    def element(self) -> "Shape":
        return self.item if self.item is not None else Shape(self.size, self.size)

    def field(self, name: str) -> "Shape":
        if self.fields is not None and name in self.fields:
            return self.fields[name]
        return self.element()


SCALAR = Shape(1)


def shape_of(value: Any) -> Shape:
    """Bounds for a concrete value."""
    return _shape_of_all([value])


def _shape_of_all(values: list[Any]) -> Shape:
    """Bounds for any one of the values, found breadth-first so that a list of a million
    similar records costs one pass, not a million shapes joined."""
    longest_text = -1
    maps: list[Mapping[Any, Any]] = []
    lists: list[Any] = []
    shapes: list[Shape] = []
    for value in values:
        if isinstance(value, str | bytes):
            longest_text = max(longest_text, len(value))
        elif isinstance(value, Mapping):
            maps.append(value)
        elif isinstance(value, list | tuple | set | frozenset):
            lists.append(value)
        elif not shapes:
            shapes.append(SCALAR)
    if longest_text >= 0:
        shapes.append(Shape(1 + longest_text // 32, longest_text))
    if maps:
        by_name: dict[str, list[Any]] = {}
        for mapping in maps:
            for key, item in mapping.items():
                by_name.setdefault(str(key), []).append(item)
        fields = {name: _shape_of_all(found) for name, found in by_name.items()}
        size = 1 + sum(shape.size + 1 + len(name) // 32 for name, shape in fields.items())
        longest = max(len(mapping) for mapping in maps)
        shapes.append(Shape(size, longest, _join_all(fields.values()), fields))
    if lists:
        item = _shape_of_all([element for found in lists for element in found])
        longest = max(len(found) for found in lists)
        shapes.append(Shape(1 + longest * item.size, longest, item))
    return _join_all(shapes)


def _join(*shapes: Shape) -> Shape:
    return _join_all(shapes)


def _join_all(shapes: Iterable[Shape]) -> Shape:
    """The least shape bounding every one given (Shape(0) for none)."""
    size = length = 0
    items: list[Shape] = []
    opaque = False
    fields: dict[str, list[Shape]] | None = {}
    first: Shape | None = None
    distinct = 0
    for shape in shapes:
        if shape is first or shape.size == 0:
            continue  # homogeneous lists repeat one shape (SCALAR): nothing new to join
        first = first or shape
        distinct += 1
        size, length = max(size, shape.size), max(length, shape.length)
        if shape.item is None:
            opaque = True
        else:
            items.append(shape.item)
        if shape.fields is None:
            fields = None
        elif fields is not None:
            for name, field in shape.fields.items():
                fields.setdefault(name, []).append(field)
    if first is None or distinct == 1:
        return first or Shape(0)
    return Shape(
        size,
        length,
        None if opaque else _join_all(items),
        None if fields is None else {name: _join_all(found) for name, found in fields.items()},
    )


def estimate_cost(tree: Node, scope: Mapping[str, Shape]) -> int:
    """An upper bound of the units evaluating the tree costs, the result's conversion included."""
    shape, work = _Estimate(scope).visit(tree, {})
    return work + shape.size


class _Estimate:
    def __init__(self, scope: Mapping[str, Shape]) -> None:
        self.scope = scope

    def visit(self, node: Node, bound: Mapping[str, Shape]) -> tuple[Shape, int]:
        kind, parts = node.kind, node.parts
        if kind == "literal":
            return _literal_shape(node.text), 1
        if kind == "name":
            found = bound.get(node.text) or self.scope.get(node.text)
            return (found or SCALAR), 1
        if kind == "macro":
            return self._macro(node, bound)
        shapes, work = self._visit_all(parts, bound)
        if kind == "select":
            # Selecting a list or map out of a map copies it.
            shape = shapes[0].field(node.text)
            return shape, work + shape.size
        if kind == "index":
            shape = shapes[0].element()
            return shape, work + shape.size
        if kind in ("call", "method"):
            copied = sum(shape.size for shape in shapes)
            if node.text in _SCALAR_FUNCTIONS:
                return SCALAR, work + copied
            if node.text == "dyn" and len(shapes) == 1:
                return shapes[0], work
            return Shape(copied + 1, copied + 1), work + copied + 1
        if kind == "list":
            size = 1 + sum(shape.size for shape in shapes)
            return Shape(size, len(shapes), _join_all(shapes)), work + size
        if kind == "map":
            values = shapes[1::2]
            names = [_literal_text(key) for key in parts[0::2]]
            known = (
                {name: value for name, value in zip(names, values, strict=True) if name is not None}
                if None not in names
                else None
            )
            size = 1 + sum(shape.size for shape in shapes)
            # Keys are joined in too: a comprehension over a map literal iterates its keys.
            return Shape(size, len(values), _join_all(shapes), known), work + size
        if kind == "binary" and node.text == "+":
            a, b = shapes
            joined = Shape(a.size + b.size, a.length + b.length, _join(a.element(), b.element()))
            return joined, work + joined.size
        if kind == "binary" and node.text in ("==", "!=", "in"):
            return SCALAR, work + sum(shape.size for shape in shapes)
        if kind == "cond":
            return _join(shapes[1], shapes[2]), work
        return SCALAR, work + 1  # unary, arithmetic, comparisons, && and ||

    def _visit_all(
        self, parts: tuple[Node, ...], bound: Mapping[str, Shape]
    ) -> tuple[list[Shape], int]:
        shapes, total = [], 0
        for part in parts:
            shape, work = self.visit(part, bound)
            shapes.append(shape)
            total += work
        return shapes, total

    def _macro(self, node: Node, bound: Mapping[str, Shape]) -> tuple[Shape, int]:
        target, variable, *body = node.parts
        over, work = self.visit(target, bound)
        # A map is iterated over its keys, which are never larger than the map.
        element = over.element() if over.fields is None else Shape(over.size, over.size)
        inner = {**bound, variable.text: element}
        shapes, per_element = self._visit_all(tuple(body), inner)
        length = over.length
        work += length * (per_element + 1)
        if node.text == "map":
            made = shapes[-1]
            # cel appends by copying the list built so far: a triangle of copies.
            work += length * (length + 1) // 2 * made.size
            return Shape(1 + length * made.size, length, made), work
        if node.text == "filter":
            work += length * (length + 1) // 2 * element.size
            return Shape(1 + length * element.size, length, element), work
        return SCALAR, work


def _literal_shape(text: str) -> Shape:
    if text[:1] in "\"'rRbB":
        return Shape(1 + len(text) // 32, len(text))
    return SCALAR  # numbers, true, false, null


def _literal_text(node: Node) -> str | None:
    """The text of a plain string literal (escapes left as written); None for anything else."""
    if node.kind != "literal" or node.text[:1] not in "\"'":
        return None
    quote = 3 if node.text[:3] in ('"""', "'''") else 1
    return node.text[quote:-quote]


def parse(source: str) -> Node:
    """Parse a CEL expression cel has already compiled into a syntax tree for estimating."""
    return _Parser(source).expression_only()


def _tokens(source: str) -> Iterator[tuple[str, str]]:
    position = 0
    while position < len(source):
        found = _TOKEN.match(source, position)
        if found is None:
            raise CostSyntaxError(f"unknown text at {position}")
        position = found.end()
        kind = found.lastgroup or ""
        if kind != "space":
            yield kind, found.group()
    yield "end", ""


class _Parser:
    def __init__(self, source: str) -> None:
        self.tokens = list(_tokens(source))
        self.at = 0

    def expression_only(self) -> Node:
        tree = self.expression()
        if self.peek() != "":
            raise CostSyntaxError(f"unexpected {self.peek()!r}")
        return tree

    def peek(self) -> str:
        return self.tokens[self.at][1]

    def take(self, expected: str | None = None) -> tuple[str, str]:
        token = self.tokens[self.at]
        if expected is not None and token[1] != expected:
            raise CostSyntaxError(f"expected {expected!r}, found {token[1]!r}")
        self.at += 1
        return token

    def expression(self) -> Node:
        condition = self.binary(1)
        if self.peek() != "?":
            return condition
        self.take("?")
        then = self.binary(1)
        self.take(":")
        return Node("cond", "?", (condition, then, self.expression()))

    def binary(self, level: int) -> Node:
        left = self.unary()
        while True:
            kind, text = self.tokens[self.at]
            precedence = _BINARY.get(text) if kind in ("op", "name") else None
            if precedence is None or precedence < level:
                return left
            self.take()
            left = Node("binary", text, (left, self.binary(precedence + 1)))

    def unary(self) -> Node:
        operators = []
        while self.peek() in ("!", "-"):
            operators.append(self.take()[1])
        node = self.member(self.primary())
        for operator in reversed(operators):
            node = Node("unary", operator, (node,))
        return node

    def member(self, node: Node) -> Node:
        while self.peek() in (".", "["):
            if self.take()[1] == "[":
                optional = self.peek() == "?"
                if optional:
                    self.take("?")
                node = Node("index", "[?" if optional else "[", (node, self.expression()))
                self.take("]")
                continue
            if self.peek() == "?":
                self.take("?")
            kind, field = self.take()
            if kind != "name":
                raise CostSyntaxError(f"expected a field name, found {field!r}")
            if self.peek() != "(":
                node = Node("select", field, (node,))
                continue
            arguments = self.arguments("(", ")")
            if field in _MACROS and arguments and arguments[0].kind == "name":
                node = Node("macro", field, (node, *arguments))
            else:
                node = Node("method", field, (node, *arguments))
        return node

    def primary(self) -> Node:
        kind, text = self.tokens[self.at]
        if kind in ("string", "number"):
            self.take()
            return Node("literal", text)
        if text == ".":
            self.take()
            kind, text = self.tokens[self.at]
        if kind == "name":
            self.take()
            if text in ("true", "false", "null"):
                return Node("literal", text)
            if self.peek() == "(":
                return Node("call", text, tuple(self.arguments("(", ")")))
            if self.peek() == "{" and text[:1].isupper():
                return Node("map", text, tuple(self.entries(fields=True)))
            return Node("name", text)
        if text == "(":
            self.take()
            inner = self.expression()
            self.take(")")
            return inner
        if text == "[":
            return Node("list", "[", tuple(self.arguments("[", "]")))
        if text == "{":
            return Node("map", "{", tuple(self.entries(fields=False)))
        raise CostSyntaxError(f"unexpected {text or 'end of input'!r}")

    def arguments(self, opening: str, closing: str) -> list[Node]:
        self.take(opening)
        items: list[Node] = []
        while self.peek() != closing:
            if self.peek() == "?":  # an optional list element
                self.take("?")
            items.append(self.expression())
            if self.peek() != ",":
                break
            self.take(",")
        self.take(closing)
        return items

    def entries(self, *, fields: bool) -> list[Node]:
        self.take("{")
        items: list[Node] = []
        while self.peek() != "}":
            if self.peek() == "?":
                self.take("?")
            if fields:
                name = self.take()[1]
                items.append(Node("literal", f'"{name}"'))
            else:
                items.append(self.expression())
            self.take(":")
            items.append(self.expression())
            if self.peek() != ",":
                break
            self.take(",")
        self.take("}")
        return items
