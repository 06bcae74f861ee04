"""Checking a run's input against its workflow's input schema (JSON Schema)."""

import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError


@dataclass(frozen=True)
class InputProblem:
    """The first way an input breaks its schema: where (`input.amount`) and what."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


@lru_cache(maxsize=256)
def _validator(schema_text: str) -> Draft202012Validator:
    return Draft202012Validator(json.loads(schema_text))


def first_input_problem(schema: dict[str, Any], value: Any) -> InputProblem | None:
    """The first way the input breaks the schema (`input.amount: ...` as text), or None."""
    try:
        validator = _validator(json.dumps(schema, sort_keys=True))
        errors = sorted(validator.iter_errors(value), key=lambda error: list(error.absolute_path))
    except SchemaError as broken:
        return InputProblem("input", f"the workflow's input schema is broken ({broken.message})")
    if not errors:
        return None
    error = errors[0]
    path = "".join(
        f"[{part}]" if isinstance(part, int) else f".{part}" for part in error.absolute_path
    )
    return InputProblem(f"input{path}", error.message)
