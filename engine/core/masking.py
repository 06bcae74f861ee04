"""Sensitive input fields: which paths an input schema marks, and values with them masked.

A field is sensitive when its JSON Schema says `writeOnly: true` or `x-sensitive: true`. Its
value is replaced whole (an object or array under a sensitive field is masked as one). Steps
and outputs are journaled from those values in forms no schema describes, so the sensitive
leaves of a run's input are also looked for wherever else the run's data is shown: a value
equal to one of them, or a text containing one (of at least MIN_TEXT_CHARS), is masked too.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

__all__ = ["MASK", "MIN_TEXT_CHARS", "NO_MASK", "PAGE_MASK", "Mask", "sensitive_paths"]

MASK = "***"  # in the API and WebSocket payloads: short, and the same in every language
PAGE_MASK = "•••• (sensitive)"  # on pages, where a person reads it
# A shorter sensitive text ("no", "1") would mask every text containing it.
MIN_TEXT_CHARS = 4
# `$ref` chains (and recursive schemas) are followed this deep, no further.
MAX_SCHEMA_DEPTH = 32

ANY_KEY = "*"  # a path step matching every property (additionalProperties) or every item
Path = tuple[str, ...]


def _is_sensitive(schema: Mapping[str, Any]) -> bool:
    return schema.get("writeOnly") is True or schema.get("x-sensitive") is True


def _deref(schema: Any, root: Mapping[str, Any]) -> Any:
    ref = schema.get("$ref") if isinstance(schema, Mapping) else None
    if not isinstance(ref, str) or not ref.startswith("#/"):
        return schema
    target: Any = root
    for part in ref[2:].split("/"):
        target = target.get(part) if isinstance(target, Mapping) else None
    return target if isinstance(target, Mapping) else schema


def _walk(schema: Any, root: Mapping[str, Any], at: Path, depth: int) -> Iterable[Path]:
    schema = _deref(schema, root)
    if not isinstance(schema, Mapping) or depth > MAX_SCHEMA_DEPTH:
        return
    if _is_sensitive(schema):
        yield at
        return
    for combined in ("allOf", "anyOf", "oneOf"):
        for part in schema.get(combined) or []:
            yield from _walk(part, root, at, depth + 1)
    properties = schema.get("properties")
    if isinstance(properties, Mapping):
        for name, child in properties.items():
            yield from _walk(child, root, (*at, str(name)), depth + 1)
    for key in ("additionalProperties", "items"):
        yield from _walk(schema.get(key), root, (*at, ANY_KEY), depth + 1)
    for child in schema.get("prefixItems") or []:
        yield from _walk(child, root, (*at, ANY_KEY), depth + 1)


def sensitive_paths(schema: Any) -> frozenset[Path]:
    """The paths (property names, `*` for any item or key) the schema marks sensitive."""
    if not isinstance(schema, Mapping):
        return frozenset()
    return frozenset(_walk(schema, schema, (), 0))


def _children(value: Any) -> Iterable[tuple[str | int, Any]]:
    if isinstance(value, Mapping):
        return value.items()
    if isinstance(value, list):
        return enumerate(value)
    return ()


def _leaves(value: Any) -> Iterable[Any]:
    children = list(_children(value))
    if not children and not isinstance(value, Mapping | list):
        yield value
    for _, child in children:
        yield from _leaves(child)


def _matching(value: Any, path: Path) -> Iterable[Any]:
    """The values at `path` in `value` (several where the path has `*`)."""
    if not path:
        yield value
        return
    head, rest = path[0], path[1:]
    for key, child in _children(value):
        if head == ANY_KEY or (isinstance(value, Mapping) and key == head):
            yield from _matching(child, rest)


@dataclass(frozen=True)
class Mask:
    """How to show one run's data to someone who may not read its sensitive fields."""

    paths: frozenset[Path]
    texts: frozenset[str]
    numbers: frozenset[float]
    token: str = MASK
    """What a masked value is replaced by."""

    @classmethod
    def of(cls, schema: Any, input: Any, token: str = MASK) -> "Mask":
        paths = sensitive_paths(schema)
        texts: set[str] = set()
        numbers: set[float] = set()
        for path in paths:
            for found in _matching(input, path):
                for leaf in _leaves(found):
                    if isinstance(leaf, str) and leaf:
                        texts.add(leaf)
                    elif isinstance(leaf, int | float) and not isinstance(leaf, bool):
                        numbers.add(leaf)
        return cls(paths, frozenset(texts), frozenset(numbers), token)

    @property
    def masks_anything(self) -> bool:
        return bool(self.paths)

    def input(self, value: Any) -> Any:
        """The run's input with every sensitive field's value replaced by MASK."""
        if not self.paths:
            return value
        if () in self.paths:
            return self.token if value is not None else None
        return self._by_path(value, ())

    def _by_path(self, value: Any, at: Path) -> Any:
        if isinstance(value, Mapping):
            return {key: self._child(child, (*at, str(key))) for key, child in value.items()}
        if isinstance(value, list):
            return [self._child(child, (*at, ANY_KEY)) for child in value]
        return value

    def _child(self, value: Any, at: Path) -> Any:
        if any(_covers(path, at) for path in self.paths):
            return self.token
        return self._by_path(value, at)

    def value(self, value: Any, *, numbers: bool = True) -> Any:
        """Any other data of the run (an output, a step's input, an error): the sensitive
        input values masked wherever they appear in it. `numbers=False` leaves numbers be,
        for data whose numbers are the system's own (timings, counts)."""
        if not self.texts and not (numbers and self.numbers):
            return value
        if isinstance(value, Mapping):
            return {key: self.value(child, numbers=numbers) for key, child in value.items()}
        if isinstance(value, list):
            return [self.value(child, numbers=numbers) for child in value]
        if isinstance(value, str):
            return self.text(value)
        if numbers and isinstance(value, int | float) and not isinstance(value, bool):
            return self.token if value in self.numbers else value
        return value

    def text(self, text: str) -> str:
        """The text with every sensitive text in it replaced by the token."""
        if text in self.texts:
            return self.token
        for secret in self._longest_first:
            if secret in text:
                text = text.replace(secret, self.token)
        return text

    @cached_property
    def _longest_first(self) -> tuple[str, ...]:
        # Longest first, so a sensitive text that contains another is masked whole.
        found = (secret for secret in self.texts if len(secret) >= MIN_TEXT_CHARS)
        return tuple(sorted(found, key=len, reverse=True))


def _covers(path: Path, at: Path) -> bool:
    return len(path) == len(at) and all(p in (ANY_KEY, a) for p, a in zip(path, at, strict=True))


NO_MASK = Mask(frozenset(), frozenset(), frozenset())
"""Clear values: nothing is masked."""
