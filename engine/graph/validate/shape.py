"""A quick yes/no check of the document shape, compiled from GRAPH_SCHEMA.

jsonschema spends ~30 ms on a 200-node document; this compiled check takes a few ms.
jsonschema stays the authority (`GRAPH_VALIDATOR`): it runs whenever the quick check fails, to
word the problems.
"""

import re
from collections.abc import Callable, Mapping
from typing import Any

from jsonschema import Draft202012Validator

from engine.graph.format import GRAPH_SCHEMA
from engine.graph.validate.configs import as_list

GRAPH_VALIDATOR = Draft202012Validator(GRAPH_SCHEMA)

_Check = Callable[[Any], bool]

_TYPE_TESTS: dict[str, _Check] = {
    "object": lambda value: isinstance(value, dict),
    "array": lambda value: isinstance(value, list),
    "string": lambda value: isinstance(value, str),
    "number": lambda value: isinstance(value, int | float) and not isinstance(value, bool),
    "integer": lambda value: (
        (isinstance(value, int) and not isinstance(value, bool))
        or (isinstance(value, float) and value.is_integer())
    ),
    "boolean": lambda value: isinstance(value, bool),
    "null": lambda value: value is None,
}
_ANNOTATIONS = frozenset({"$schema", "$defs", "title", "description", "default"})


def _compile_check(schema: Mapping[str, Any], root: Mapping[str, Any]) -> _Check:
    """A predicate giving the schema's verdict, for the few keywords GRAPH_SCHEMA uses.

    Any other keyword raises at import, so the schema cannot outgrow what this understands.
    """
    checks = [
        _compile_keyword(keyword, value, schema, root)
        for keyword, value in schema.items()
        if keyword not in _ANNOTATIONS
    ]
    if len(checks) == 1:
        return checks[0]

    def check_all(instance: Any) -> bool:
        for check in checks:  # noqa: SIM110 (all() over a generator costs a third more here)
            if not check(instance):
                return False
        return True

    return check_all


def _compile_keyword(
    keyword: str, value: Any, schema: Mapping[str, Any], root: Mapping[str, Any]
) -> _Check:
    if keyword == "$ref":
        return _compile_check(root["$defs"][value.removeprefix("#/$defs/")], root)
    if keyword == "type":
        tests = [_TYPE_TESTS[name] for name in as_list(value)]
        return tests[0] if len(tests) == 1 else lambda instance: any(t(instance) for t in tests)
    if keyword in ("required", "properties", "additionalProperties"):
        return _compile_object_keyword(keyword, value, schema, root)
    if keyword == "items":
        item = _compile_check(value, root)
        return lambda instance: not isinstance(instance, list) or all(map(item, instance))
    if keyword == "maxItems":
        return lambda instance: not isinstance(instance, list) or len(instance) <= value
    if keyword == "minLength":
        return lambda instance: not isinstance(instance, str) or len(instance) >= value
    if keyword == "maxLength":
        return lambda instance: not isinstance(instance, str) or len(instance) <= value
    if keyword == "pattern":
        pattern = re.compile(value)
        return lambda instance: not isinstance(instance, str) or bool(pattern.search(instance))
    raise ValueError(f"the quick shape check does not know the keyword {keyword!r}")


def _compile_object_keyword(
    keyword: str, value: Any, schema: Mapping[str, Any], root: Mapping[str, Any]
) -> _Check:
    if keyword == "required":
        required = tuple(value)
        return lambda instance: (
            not isinstance(instance, dict) or all(key in instance for key in required)
        )
    if keyword == "additionalProperties" and value is False:
        allowed = set(schema.get("properties", {}))
        return lambda instance: not isinstance(instance, dict) or instance.keys() <= allowed
    if keyword == "properties":
        subs = {key: _compile_check(sub, root) for key, sub in value.items()}

        def check_properties(instance: Any) -> bool:
            if isinstance(instance, dict):
                for key, item in instance.items():
                    sub = subs.get(key)
                    if sub is not None and not sub(item):
                        return False
            return True

        return check_properties
    raise ValueError(f"the quick shape check does not know {keyword!r}: {value!r}")


# jsonschema spends ~30 ms on a 200-node document; this compiled check takes a few ms.
# jsonschema stays the authority: it runs whenever the quick check fails, to word the problems.
fits_graph_schema = _compile_check(GRAPH_SCHEMA, GRAPH_SCHEMA)
