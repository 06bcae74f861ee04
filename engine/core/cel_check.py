"""Static checks of a CEL expression against the names it may use and their declared types.

`cel` (the Rust interpreter the engine runs) compiles and evaluates but has no type checker with
declared variable types in its Python API (cel 0.10 exposes `compile`, `Program`, `Context` and
`evaluate` only), so this is a small checker of our own over the syntax tree of
engine.core.cel_cost. It finds what would otherwise fail at run time, after the steps before it
already ran: a name that is not in scope, a field an object's declared shape does not have, a
node that is not upstream, and comparing or adding text with a number. Values whose type is not
declared are `any` and never reported: the checker prefers silence to a false alarm.
"""

import dataclasses
import difflib
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from engine.core.cel_cost import CostSyntaxError, Node, parse

__all__ = ["ANY", "CelType", "TypeProblem", "check_types", "from_json_schema", "scope_entries"]


@dataclasses.dataclass(frozen=True)
class CelType:
    """What is known of a value: its kind, its fields or items, and a line for autocomplete.

    `fields` is None when the fields are not declared (any field may be read); otherwise reading
    another field is a problem, worded by `unknown_field` when given.
    """

    kind: str  # any, number, string, bool, null, list, map, timestamp, duration
    fields: Mapping[str, "CelType"] | None = None
    item: "CelType | None" = None
    doc: str = ""
    unknown_field: Callable[[str], str] | None = dataclasses.field(default=None, compare=False)

    def field(self, name: str) -> "CelType | None":
        """The field's type; None when the declared fields do not include it."""
        if self.kind not in ("map", "any") or self.fields is None:
            return ANY
        return self.fields.get(name)


ANY = CelType("any")
_NUMBER, _STRING, _BOOL = CelType("number"), CelType("string"), CelType("bool")
_SCALARS = {"number": "a number", "string": "text", "bool": "true or false", "null": "null"}
_FUNCTIONS: dict[str, CelType] = {
    "size": _NUMBER,
    "int": _NUMBER,
    "uint": _NUMBER,
    "double": _NUMBER,
    "string": _STRING,
    "bool": _BOOL,
    "has": _BOOL,
    "matches": _BOOL,
    "timestamp": CelType("timestamp"),
    "duration": CelType("duration"),
    "type": ANY,
    "dyn": ANY,
    "bytes": ANY,
}
_BOOL_METHODS = frozenset({"contains", "startsWith", "endsWith", "matches", "exists", "all"})
_COMPARISONS = frozenset({"<", "<=", ">", ">=", "==", "!="})
_MAX_SCOPE_DEPTH = 4


@dataclasses.dataclass(frozen=True)
class TypeProblem:
    message: str
    position: int | None


def from_json_schema(schema: Any, doc: str = "") -> CelType:
    """The type a JSON Schema declares; objects with `properties` have closed fields."""
    if not isinstance(schema, Mapping):
        return CelType("any", doc=doc)
    doc = doc or str(schema.get("description") or schema.get("title") or "")
    kind = schema.get("type")
    if isinstance(kind, list):
        kinds = [item for item in kind if item != "null"]
        kind = kinds[0] if len(kinds) == 1 else None
    if kind in ("number", "integer"):
        return CelType("number", doc=doc)
    if kind == "string":
        return CelType("string", doc=doc)
    if kind == "boolean":
        return CelType("bool", doc=doc)
    if kind == "array":
        return CelType("list", item=from_json_schema(schema.get("items")), doc=doc)
    properties = schema.get("properties")
    if kind == "object" or isinstance(properties, Mapping):
        if not isinstance(properties, Mapping):
            return CelType("map", doc=doc)
        fields = {str(name): from_json_schema(value) for name, value in properties.items()}
        return CelType("map", fields=fields, doc=doc)
    return CelType("any", doc=doc)


def scope_entries(scope: Mapping[str, CelType]) -> list[dict[str, str]]:
    """Every name and field path the scope offers, with its type: what autocomplete lists."""
    entries: list[dict[str, str]] = []

    def walk(path: str, value: CelType, depth: int) -> None:
        entries.append({"name": path, "type": _type_name(value), "doc": value.doc})
        if value.fields is None or depth >= _MAX_SCOPE_DEPTH:
            return
        for name, child in value.fields.items():
            walk(f"{path}.{name}" if name.isidentifier() else f"{path}[{name!r}]", child, depth + 1)

    for name, value in scope.items():
        walk(name, value, 0)
    return entries


def _type_name(value: CelType) -> str:
    if value.kind == "list" and value.item is not None and value.item.kind != "any":
        return f"list of {_type_name(value.item)}"
    return {"map": "object", "string": "text"}.get(value.kind, value.kind)


def check_types(source: str, scope: Mapping[str, CelType]) -> list[TypeProblem]:
    """The problems of an expression that compiled, against the names in scope; [] if none."""
    try:
        tree = parse(source)
    except (CostSyntaxError, RecursionError):
        return []  # cel accepted it: syntax this parser does not know is left to run time
    checker = _Checker(source, scope)
    checker.infer(tree, {})
    return checker.problems


class _Checker:
    def __init__(self, source: str, scope: Mapping[str, CelType]) -> None:
        self.source = source
        self.scope = scope
        self.problems: list[TypeProblem] = []

    def report(self, message: str, near: str | None = None) -> None:
        position = self.source.find(near) if near else -1
        problem = TypeProblem(message, position if position >= 0 else None)
        if problem not in self.problems:
            self.problems.append(problem)

    def infer(self, node: Node, bound: Mapping[str, CelType]) -> CelType:
        handler = getattr(self, f"_{node.kind}", None)
        if handler is None:
            for part in node.parts:
                self.infer(part, bound)
            return ANY
        result: CelType = handler(node, bound)
        return result

    def _literal(self, node: Node, bound: Mapping[str, CelType]) -> CelType:
        text = node.text
        if text in ("true", "false"):
            return _BOOL
        if text == "null":
            return CelType("null")
        if text[:1] in "\"'" or text[:2].lower() in ("r'", 'r"'):
            return _STRING
        if text[:1] in "bB":
            return ANY
        return _NUMBER

    def _name(self, node: Node, bound: Mapping[str, CelType]) -> CelType:
        if node.text in bound:
            return bound[node.text]
        if node.text in self.scope:
            return self.scope[node.text]
        if node.text in _FUNCTIONS:  # type names (int, string…) are values too
            return ANY
        self.report(self._undefined(node.text), node.text)
        return ANY

    def _undefined(self, name: str) -> str:
        known = [*self.scope]
        hint = ""
        for owner, value in self.scope.items():
            if value.fields is not None and name in value.fields:
                hint = f" (did you mean {owner}.{name}?)"
                break
        else:
            close = difflib.get_close_matches(name, known, n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
        names = ", ".join(known) or "none"
        return f"undefined name '{name}'{hint}; the names here are: {names}"

    def _select(self, node: Node, bound: Mapping[str, CelType]) -> CelType:
        owner = self.infer(node.parts[0], bound)
        return self._field(owner, node.text, node.parts[0])

    def _field(self, owner: CelType, name: str, owner_node: Node) -> CelType:
        if owner.kind in _SCALARS:
            self.report(
                f"{_describe(owner_node)} is {_SCALARS[owner.kind]}, it has no field '{name}'",
                name,
            )
            return ANY
        found = owner.field(name)
        if found is not None:
            return found
        if owner.unknown_field is not None:
            self.report(owner.unknown_field(name), name)
        else:
            fields = ", ".join(owner.fields or ()) or "none"
            self.report(
                f"{_describe(owner_node)} has no field '{name}' (its fields: {fields})", name
            )
        return ANY

    def _index(self, node: Node, bound: Mapping[str, CelType]) -> CelType:
        owner = self.infer(node.parts[0], bound)
        key = node.parts[1]
        self.infer(key, bound)
        if key.kind == "literal" and key.text[:1] in "\"'" and node.text == "[":
            return self._field(owner, key.text[1:-1], node.parts[0])
        if owner.kind == "list" and owner.item is not None:
            return owner.item
        return ANY

    def _call(self, node: Node, bound: Mapping[str, CelType]) -> CelType:
        if node.text == "has" and len(node.parts) == 1 and node.parts[0].kind == "select":
            # has(a.b) asks whether b is there: only `a` must exist.
            self.infer(node.parts[0].parts[0], bound)
            return _BOOL
        for part in node.parts:
            self.infer(part, bound)
        return _FUNCTIONS.get(node.text, ANY)

    def _method(self, node: Node, bound: Mapping[str, CelType]) -> CelType:
        for part in node.parts:
            self.infer(part, bound)
        if node.text in _BOOL_METHODS:
            return _BOOL
        if node.text == "size" or node.text.startswith("get"):
            return _NUMBER
        return ANY

    def _macro(self, node: Node, bound: Mapping[str, CelType]) -> CelType:
        target = self.infer(node.parts[0], bound)
        variable = node.parts[1].text
        item = target.item if target.kind == "list" and target.item is not None else ANY
        inner = {**bound, variable: item}
        for part in node.parts[2:]:
            self.infer(part, inner)
        if node.text == "map":
            return CelType("list")
        if node.text == "filter":
            return CelType("list", item=item)
        return _BOOL

    def _list(self, node: Node, bound: Mapping[str, CelType]) -> CelType:
        for part in node.parts:
            self.infer(part, bound)
        return CelType("list")

    def _map(self, node: Node, bound: Mapping[str, CelType]) -> CelType:
        for part in node.parts:
            self.infer(part, bound)
        return CelType("map")

    def _unary(self, node: Node, bound: Mapping[str, CelType]) -> CelType:
        self.infer(node.parts[0], bound)
        return _BOOL if node.text == "!" else _NUMBER

    def _cond(self, node: Node, bound: Mapping[str, CelType]) -> CelType:
        self.infer(node.parts[0], bound)
        then, otherwise = self.infer(node.parts[1], bound), self.infer(node.parts[2], bound)
        return then if then.kind == otherwise.kind else ANY

    def _binary(self, node: Node, bound: Mapping[str, CelType]) -> CelType:
        left, right = (self.infer(part, bound) for part in node.parts)
        operator = node.text
        kinds = {left.kind, right.kind}
        if kinds == {"string", "number"} and (operator in _COMPARISONS or operator == "+"):
            text_side, number_side = (
                (node.parts[0], node.parts[1]) if left.kind == "string" else node.parts[::-1]
            )
            verb = "adds" if operator == "+" else "compares"
            self.report(
                f"{verb} text with a number: {_describe(text_side)} is text and "
                f"{_describe(number_side)} is a number (convert one side, e.g. int(...) or "
                "string(...), or fix the literal)",
                _near(node.parts[1]),
            )
        if operator in _COMPARISONS or operator in ("&&", "||", "in"):
            return _BOOL
        if operator == "+" and kinds == {"string"}:
            return _STRING
        if kinds == {"number"}:
            return _NUMBER
        return ANY


def _describe(node: Node) -> str:
    """The source-like text of a small expression, for messages."""
    if node.kind == "name":
        return node.text
    if node.kind == "literal":
        return node.text
    if node.kind == "select":
        return f"{_describe(node.parts[0])}.{node.text}"
    if node.kind == "index" and node.parts[1].kind == "literal":
        return f"{_describe(node.parts[0])}[{node.parts[1].text}]"
    return "the value"


def _near(node: Node) -> str | None:
    for found in _leaves(node):
        return found
    return None


def _leaves(node: Node) -> Iterator[str]:
    if node.kind in ("name", "literal", "select"):
        yield node.text
    for part in node.parts:
        yield from _leaves(part)
