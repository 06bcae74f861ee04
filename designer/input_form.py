"""An input form generated from a workflow's input schema: one control per field that fits its
type, and the submitted text turned back into the JSON input, each problem named by field."""

import json
from dataclasses import dataclass
from typing import Any

from engine.runtime.inputs import first_input_problem

MAX_FIELDS = 50
MAX_TEXT = 100_000


@dataclass(frozen=True)
class InputField:
    name: str
    label: str
    kind: str  # text, number, integer, boolean, choice, json
    required: bool
    help: str
    choices: tuple[str, ...] = ()

    @property
    def html_name(self) -> str:
        return f"input.{self.name}"


def input_fields(schema: dict[str, Any] | None) -> list[InputField] | None:
    """The controls for an object schema's properties; None when one JSON box fits better."""
    if not isinstance(schema, dict) or not isinstance(schema.get("properties"), dict):
        return None
    required = set(schema.get("required") or [])
    fields = []
    for name, spec in list(schema["properties"].items())[:MAX_FIELDS]:
        spec = spec if isinstance(spec, dict) else {}
        kind = spec.get("type")
        enum = spec.get("enum")
        if isinstance(enum, list) and all(isinstance(option, str) for option in enum):
            control, choices = "choice", tuple(enum)
        else:
            control = {
                "string": "text",
                "number": "number",
                "integer": "integer",
                "boolean": "boolean",
            }.get(kind if isinstance(kind, str) else "", "json")
            choices = ()
        fields.append(
            InputField(
                name=str(name),
                label=str(spec.get("title") or name),
                kind=control,
                required=name in required,
                help=str(spec.get("description") or ""),
                choices=choices,
            )
        )
    return fields


def parse_input(schema: dict[str, Any] | None, data: dict[str, str]) -> tuple[Any, dict[str, str]]:
    """(input, errors by field name) from the submitted form; the schema has the last word."""
    fields = input_fields(schema)
    errors: dict[str, str] = {}
    if fields is None:
        text = data.get("input", "").strip() or "{}"
        try:
            value: Any = json.loads(text[:MAX_TEXT]) if len(text) <= MAX_TEXT else None
        except ValueError as broken:
            return None, {"input": f"is not valid JSON ({broken})"}
        if value is None and len(text) > MAX_TEXT:
            return None, {"input": f"must be at most {MAX_TEXT:,} characters"}
    else:
        value = {}
        for field in fields:
            raw = data.get(field.html_name, "")
            if field.kind == "boolean":
                value[field.name] = raw in ("on", "true", "1")
                continue
            if raw.strip() == "":
                if field.required:
                    errors[field.name] = "is required"
                continue
            try:
                value[field.name] = _convert(field, raw.strip())
            except ValueError as wrong:
                errors[field.name] = str(wrong)
    if errors or schema is None:
        return value, errors
    problem = first_input_problem(schema, value)
    if problem is not None:
        name = problem.field.removeprefix("input.").split(".")[0].split("[")[0] or "input"
        errors[name] = problem.message
    return value, errors


def _convert(field: InputField, raw: str) -> Any:
    if len(raw) > MAX_TEXT:
        raise ValueError(f"must be at most {MAX_TEXT:,} characters")
    if field.kind == "integer":
        try:
            return int(raw)
        except ValueError:
            raise ValueError("must be a whole number") from None
    if field.kind == "number":
        try:
            number = float(raw)
        except ValueError:
            raise ValueError("must be a number") from None
        return int(number) if number.is_integer() and "." not in raw else number
    if field.kind == "json":
        try:
            return json.loads(raw)
        except ValueError as broken:
            raise ValueError(f"is not valid JSON ({broken})") from None
    return raw
