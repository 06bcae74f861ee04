"""The node side panel: form fields from a node type's JSON Schema, and a config from the form.

Plain functions over the schema and the posted values, so the rules read without a request.
A field that is a number or text (a duration: 90 or "48h") is one line; a field the form cannot
express as a simple input (objects, lists, other mixed types) is a JSON textarea that also takes
plain text where text is allowed. A value left empty is removed from the config, so defaults
apply and required keys are reported as missing by validation.
"""

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.graph.nodes import NodeType, Problem

FIELD_PREFIX = "cfg."
LONG_TEXT = frozenset({"body", "html", "prompt", "system", "description", "output", "context"})


@dataclass(frozen=True)
class Field:
    """One input of the panel form."""

    key: str
    title: str
    widget: str  # text, textarea, number, integer, checkbox, select, json
    value: Any
    required: bool
    description: str = ""
    options: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()
    # The browser control that edits the value (a people picker, a list editor, …); "" for the
    # plain input. The input stays in the form as the control's "edit as JSON" view.
    control: str = ""
    # What the control needs of the schema, e.g. a list's item schema, as JSON for data-spec.
    spec: str = "{}"

    @property
    def name(self) -> str:
        return FIELD_PREFIX + self.key

    @property
    def input_id(self) -> str:
        return "panel-field-" + "".join(c if c.isalnum() else "-" for c in self.key)


def _types(schema: Mapping[str, Any]) -> list[str]:
    kind = schema.get("type")
    if isinstance(kind, str):
        return [kind]
    if isinstance(kind, list):
        return [str(item) for item in kind]
    # anyOf/oneOf: the types of the alternatives, e.g. a duration is a number or a string.
    found: list[str] = []
    for option in [*schema.get("anyOf", []), *schema.get("oneOf", [])]:
        found += [name for name in _types(option) if name not in found]
    return found


def widget_for(key: str, schema: Mapping[str, Any]) -> str:
    if "enum" in schema and all(isinstance(option, str) for option in schema["enum"]):
        return "select"
    types = _types(schema)
    if types == ["string"]:
        long = key in LONG_TEXT or int(schema.get("maxLength", 0)) > 500
        return "textarea" if long else "text"
    if types == ["integer"]:
        return "integer"
    if types == ["number"]:
        return "number"
    if types == ["boolean"]:
        return "checkbox"
    if sorted(types) in (["number", "string"], ["integer", "string"]):
        return "scalar"  # one line: a number when it reads as one, else text ("48h")
    return "json"


def _is_people(schema: Mapping[str, Any]) -> bool:
    properties = schema.get("properties")
    return (
        _types(schema) == ["object"]
        and isinstance(properties, Mapping)
        and set(properties) == {"users", "groups"}
    )


def _is_duration(schema: Mapping[str, Any]) -> bool:
    return any(
        option.get("type") == "string" and "ms|s|m|h|d|w" in str(option.get("pattern", ""))
        for option in schema.get("anyOf", [])
    )


def control_for(
    key: str, schema: Mapping[str, Any], expressions: tuple[str, ...] = ()
) -> tuple[str, dict[str, Any]]:
    """The browser control for a field and what it needs of the schema; ("", {}) for none.

    `expressions` are the node type's CEL paths: a top-level one gets the expression editor.
    """
    types = _types(schema)
    if key in expressions and types == ["string"]:
        return "expression", {}
    if _is_duration(schema):
        return "duration", {}
    if _is_people(schema):
        return "people", {}
    # A node's retry, breaker, rate limit and bulkhead: a few named settings, one field each.
    if types == ["object"] and schema.get("x-control") == "fields":
        return "fields", {
            "properties": schema.get("properties", {}),
            "required": schema.get("required", []),
        }
    # A run's input and an approval's form are both small JSON Schema objects: one builder.
    if key in ("input_schema", "form") and types == ["object"]:
        return "schema", {}
    if types == ["array"] and isinstance(schema.get("items"), Mapping):
        items: Mapping[str, Any] = schema["items"]
        if _types(items) == ["object"]:
            wheres = [
                path.split("[].", 1)[1] for path in expressions if path.startswith(key + "[].")
            ]
            return "rows", {"item": items, "expressions": wheres}
        return "list", {"item": items, "unique": bool(schema.get("uniqueItems"))}
    if types == ["object"] and not schema.get("properties"):
        values = schema.get("additionalProperties")
        return "keyvalue", {"values": values if isinstance(values, Mapping) else {}}
    return "", {}


def _shown(widget: str, value: Any) -> Any:
    """The value as the input shows it."""
    if value is None:
        return False if widget == "checkbox" else ""
    if widget == "json":
        return value if isinstance(value, str) else json.dumps(value, indent=2)
    if widget == "checkbox":
        return bool(value)
    return value


def fields_for(
    node_type: NodeType,
    schema: Mapping[str, Any],
    config: Mapping[str, Any],
    problems: list[Problem],
    raw: Mapping[str, str] | None = None,
) -> list[Field]:
    """The form's fields, filled from the config (or the raw text that failed to parse)."""
    required = set(schema.get("required", []))
    by_key: dict[str, list[str]] = {}
    for problem in problems:
        key = _config_key(problem.field)
        if key is not None:
            by_key.setdefault(key, []).append(_message(problem))
    fields = []
    for key, prop in schema.get("properties", {}).items():
        widget = widget_for(key, prop)
        control, spec = control_for(key, prop, node_type.expressions)
        # A switch left out of the config is at its schema default: shown unchecked, a default
        # of true was turned off by the next Apply ("One rejection rejects", "Follow redirects").
        stored = config.get(key, prop.get("default") if widget == "checkbox" else None)
        value = raw[key] if raw and key in raw else _shown(widget, stored)
        options = tuple(str(o) for o in prop.get("enum", ())) if widget == "select" else ()
        fields.append(
            Field(
                key=key,
                title=str(prop.get("title") or key.replace("_", " ").capitalize()),
                widget=widget,
                value=value,
                required=key in required,
                description=str(prop.get("description", "")),
                options=options,
                problems=tuple(by_key.get(key, ())),
                control=control,
                spec=json.dumps(spec),
            )
        )
    return fields


def _config_key(field: str | None) -> str | None:
    if not field or not field.startswith("config."):
        return None
    rest = field.removeprefix("config.")
    for stop in (".", "["):
        rest = rest.split(stop, 1)[0]
    return rest or None


def _message(problem: Problem) -> str:
    key = _config_key(problem.field)
    inner = (problem.field or "").removeprefix(f"config.{key}") if key else ""
    return f"{inner.lstrip('.')}: {problem.message}" if inner else problem.message


def other_problems(problems: list[Problem]) -> list[str]:
    """Problems the form cannot show next to a field."""
    return [
        f"{problem.field}: {problem.message}" if problem.field else problem.message
        for problem in problems
        if _config_key(problem.field) is None
    ]


def config_from_form(
    schema: Mapping[str, Any], data: Mapping[str, str], previous: Mapping[str, Any]
) -> tuple[dict[str, Any], list[Problem], dict[str, str]]:
    """The config the form describes, JSON that does not parse, and the raw text to show again.

    Keys the schema does not list are kept from the previous config, so validation still
    reports them instead of the form dropping them silently.
    """
    properties: Mapping[str, Any] = schema.get("properties", {})
    config = {key: value for key, value in previous.items() if key not in properties}
    problems: list[Problem] = []
    raw: dict[str, str] = {}
    for key, prop in properties.items():
        widget = widget_for(key, prop)
        text = data.get(FIELD_PREFIX + key)
        if widget == "checkbox":
            if text is not None:
                config[key] = True
            elif prop.get("default") is True or key in previous:
                config[key] = False
            continue
        if text is None or text.strip() == "":
            continue
        if widget in ("text", "textarea", "select"):
            config[key] = text
        elif widget == "scalar":
            number = _number(text, integer=False)
            config[key] = text.strip() if number is None else number
        elif widget in ("integer", "number"):
            number = _number(text, integer=widget == "integer")
            if number is None:
                raw[key] = text
                kind = "a whole number" if widget == "integer" else "a number"
                problems.append(Problem(None, f"config.{key}", f"must be {kind}"))
            else:
                config[key] = number
        else:
            try:
                config[key] = json.loads(text)
            except ValueError as error:
                if "string" in _types(prop):
                    config[key] = text
                    continue
                raw[key] = text
                problems.append(Problem(None, f"config.{key}", f"is not valid JSON ({error})"))
    return config, problems, raw


def _number(text: str, *, integer: bool) -> int | float | None:
    try:
        number = float(text)
    except ValueError:
        return None
    if not math.isfinite(number):
        return None  # "nan" and "inf" parse, but JSON cannot hold them
    if integer:
        return int(number) if number.is_integer() else None
    return int(number) if number.is_integer() and "." not in text else number
