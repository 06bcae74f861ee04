"""How the API words a refusal: one body for every 4xx and 503, built by `refusal`.

`{"detail": "<field>: <message>", "field": "<field>"}`, where the field is a path or query
parameter, a body property (dotted for a nested one), `body` (not JSON), `draft` (the saved
draft an operation acts on) or `path` (an address no route takes). When no field of the request
is at fault (401, 403, 429 are about the caller, 503 about the database) the detail is the
message alone and `"field": null`. django-ninja's own 422 keeps its list as the detail,
`[{"loc", "msg", "type"}]`, beside the first field it names.

The field is said by the code that refuses (FieldError, or an error of its own carrying a
field), never read back out of the message. This lives in accounts, the app every other may
import (tests/architecture), because accounts' own endpoints refuse too.
"""

from typing import Any

from ninja import Field, Schema
from ninja.errors import HttpError
from pydantic import ValidationError

__all__ = ["FieldError", "RefusalOut", "first_problem", "refusal"]


def refusal(field: str | None, message: str | list[Any], /, **extra: Any) -> dict[str, Any]:
    """The body of a refusal: the message led by the field at fault, and that field (or None)."""
    detail = f"{field}: {message}" if field and isinstance(message, str) else message
    return {"detail": detail, "field": field, **extra}


def first_problem(invalid: ValidationError) -> tuple[str, str]:
    """The field (dotted) and message of the first problem pydantic found in a body it read."""
    first = invalid.errors()[0]
    return ".".join(str(part) for part in first["loc"]) or "body", first["msg"]


class FieldError(HttpError):
    """A refusal about one field of the request (config/api.py answers it with `refusal`)."""

    def __init__(self, status_code: int, field: str, message: str) -> None:
        super().__init__(status_code, f"{field}: {message}")
        self.field = field
        self.reason = message


class RefusalOut(Schema):
    """A refusal as the OpenAPI schema shows it."""

    detail: str | list[dict[str, Any]] = Field(
        description="What is wrong, led by the field; a value that does not fit the schema "
        "gets django-ninja's list of {loc, msg, type} instead"
    )
    field: str | None = Field(description="The field at fault; null for one about the caller")
