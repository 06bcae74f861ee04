"""JSON-shaped values: what the journal stores, and how such a value reads as text.

Journaled values must survive a JSON round trip unchanged, or replay would see other values.
"""

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

type JSON = dict[str, Any] | list[Any] | str | int | float | bool | None
"""A JSON-shaped value: a run's input and output, an event's payload, a journaled result.

Only the top level is spelled out. A recursive alias (`dict[str, "JSON"] | ...`) would refuse
a `dict[str, str]` argument (mypy's dict is invariant) and make every read of a nested field
narrow the union first, which would put casts all over the engine.
"""


def _encode(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (Decimal, UUID)):
        return str(value)
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=repr)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


_SCALARS = frozenset({str, int, float, bool, type(None)})
"""Types a JSON round trip gives back unchanged (exactly these: a str subclass comes back a
str), so most step results skip it."""


def to_json_value(value: Any) -> Any:
    """The value as the journal will give it back (tuples become lists, datetimes strings)."""
    if type(value) in _SCALARS:
        return value
    return json.loads(json.dumps(value, default=_encode))


def to_text(value: Any) -> str:
    """A value as it reads inside text (a template, a header): null is empty, booleans are
    `true`/`false` and maps and lists compact JSON, as CEL and JSON write them."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return str(value)


def arguments_value(args: Any, kwargs: Any) -> dict[str, Any]:
    """A code step's arguments as one value: what its attempt keeps as input, and what its
    rate-limit key template reads."""
    return {"args": list(args), "kwargs": dict(kwargs)}


def cut_json(value: Any, limit: int, rest: str) -> Any:
    """`value` itself if its JSON text fits in `limit` UTF-8 bytes, else a visible cut of it:
    `{"cut": true, "size": <bytes in full>, "note": …, "start": <the first bytes as text>}`;
    `rest` says where the whole is (or that it is not kept)."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    encoded = text.encode()
    if len(encoded) <= limit:
        return value
    return {
        "cut": True,
        "size": len(encoded),
        "note": f"{len(encoded):,} bytes in full; {rest}",
        "start": encoded[:limit].decode(errors="ignore"),
    }
