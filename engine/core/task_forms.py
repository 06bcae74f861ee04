"""The small form a task may ask to be filled in when it is approved (e.g. a cost centre).

A task's form is a JSON Schema object of at most 20 plain fields (text, number, whole number,
yes/no, optionally a list of choices); `form_problems` checks one when a workflow is designed,
`clean_form` checks what a person submitted when they decide.
"""

from typing import Any

from jsonschema import Draft202012Validator

FIELD_TYPES = ("string", "number", "integer", "boolean")
MAX_FIELDS = 20
MAX_TEXT = 2000


def form_problems(form: Any) -> list[tuple[str, str]]:
    """(path, message) for each way `form` is not a task form; [] when it is one."""
    if form in (None, {}):
        return []
    if not isinstance(form, dict) or form.get("type") != "object":
        return [("", 'a JSON Schema object: {"type": "object", "properties": {...}}')]
    properties = form.get("properties")
    if not isinstance(properties, dict) or not properties:
        return [("properties", "name at least one field")]
    problems: list[tuple[str, str]] = []
    if len(properties) > MAX_FIELDS:
        problems.append(("properties", f"at most {MAX_FIELDS} fields"))
    for name, spec in properties.items():
        where = f"properties.{name}"
        if not isinstance(spec, dict) or spec.get("type") not in FIELD_TYPES:
            problems.append((where, f"a field of type {', '.join(FIELD_TYPES)}"))
            continue
        choices = spec.get("enum")
        if choices is not None and (not isinstance(choices, list) or not choices):
            problems.append((f"{where}.enum", "a list of choices"))
    required = form.get("required", [])
    if not isinstance(required, list) or any(name not in properties for name in required):
        problems.append(("required", "names fields of the form"))
    if not problems:
        try:
            Draft202012Validator.check_schema(form)
        except Exception as invalid:  # the schema library's own error types vary
            problems.append(("", f"not a valid JSON Schema: {str(invalid).splitlines()[0]}"))
    return problems


def clean_form(form: dict[str, Any], submitted: Any) -> dict[str, Any]:
    """The submitted values as the form's types, or ValueError naming the field (form.<name>)."""
    if not form:
        return {}
    if not isinstance(submitted, dict):
        raise ValueError("form: the form's fields as an object")
    properties: dict[str, Any] = form.get("properties", {})
    unknown = sorted(set(submitted) - set(properties))
    if unknown:
        raise ValueError(f"form.{unknown[0]}: not a field of this form")
    values: dict[str, Any] = {}
    for name, spec in properties.items():
        raw = submitted.get(name)
        if raw in (None, ""):
            continue
        values[name] = _typed(name, spec, raw)
    errors = sorted(Draft202012Validator(form).iter_errors(values), key=lambda e: list(e.path))
    if errors:
        first = errors[0]
        field = ".".join(str(part) for part in first.path) or _missing_field(first.message)
        raise ValueError(f"form.{field}: {first.message}")
    return values


def _typed(name: str, spec: dict[str, Any], raw: Any) -> Any:
    kind = spec.get("type")
    if kind == "boolean":
        if isinstance(raw, bool):
            return raw
        return str(raw).lower() in ("1", "true", "on", "yes")
    if kind in ("number", "integer"):
        if isinstance(raw, bool):
            raise ValueError(f"form.{name}: a number")
        try:
            number = float(raw) if kind == "number" else int(str(raw).strip())
        except ValueError:
            raise ValueError(
                f"form.{name}: a {'whole ' if kind == 'integer' else ''}number"
            ) from None
        return number
    text = str(raw)
    if len(text) > MAX_TEXT:
        raise ValueError(f"form.{name}: at most {MAX_TEXT} characters")
    return text


def _missing_field(message: str) -> str:
    # jsonschema says "'cost_centre' is a required property" with an empty path.
    return message.split("'")[1] if message.count("'") >= 2 else "form"
