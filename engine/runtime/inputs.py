"""Checking a run's input against its workflow's input schema (JSON Schema)."""

from functools import lru_cache
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError


@lru_cache(maxsize=256)
def _validator(schema_text: str) -> Draft202012Validator:
    import json

    return Draft202012Validator(json.loads(schema_text))


def first_input_problem(schema: dict[str, Any], value: Any) -> str | None:
    """`input.amount: ...` for the first way the input breaks the schema, or None."""
    import json

    try:
        validator = _validator(json.dumps(schema, sort_keys=True))
        errors = sorted(validator.iter_errors(value), key=lambda error: list(error.absolute_path))
    except SchemaError as broken:
        return f"input: the workflow's input schema is broken ({broken.message})"
    if not errors:
        return None
    error = errors[0]
    path = "".join(
        f"[{part}]" if isinstance(part, int) else f".{part}" for part in error.absolute_path
    )
    return f"input{path}: {error.message}"
