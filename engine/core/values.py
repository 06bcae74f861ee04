"""Journaled values must survive a JSON round trip unchanged, or replay would see other values."""

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID


def _encode(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (Decimal, UUID)):
        return str(value)
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=repr)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def to_json_value(value: Any) -> Any:
    """The value as the journal will give it back (tuples become lists, datetimes strings)."""
    return json.loads(json.dumps(value, default=_encode))
