"""Values crossing into and out of cel: sizing a scope, adapting what cel cannot take, and
turning its results into plain JSON-like Python values (see engine.core.expressions)."""

import base64
import datetime as dt
import json
import uuid
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import cel


class UnsupportedValue(ValueError):
    """A scope value of a type expressions cannot use."""


class Measure:
    """json.dumps hook: sizes what JSON cannot encode and notes what cel cannot take."""

    __slots__ = ("adapt", "extra", "foreign")

    def __init__(self) -> None:
        self.extra = 0
        self.foreign = False
        self.adapt = False

    def __call__(self, value: Any) -> None:
        self.foreign = True
        if isinstance(value, bytes | bytearray):
            self.extra += len(value)
            self.adapt = self.adapt or isinstance(value, bytearray)
            return
        if isinstance(value, dt.datetime):
            self.adapt = self.adapt or type(value.tzinfo) is not dt.timezone
        elif not isinstance(value, dt.timedelta | Decimal):
            self.adapt = True
        self.extra += len(str(value))


def json_size(value: Any, measure: Measure) -> int | None:
    """Estimate the JSON size of a value; None when it is circular or too deep."""
    try:
        return len(json.dumps(value, default=measure, ensure_ascii=False)) + measure.extra
    except (ValueError, RecursionError):
        # json's C recursion guard trips long before the depth (about 10,000) at which cel's
        # conversion overflows the native stack and kills the process.
        return None


def measure_scope(scope: dict[str, Any]) -> tuple[int | None, bool]:
    """Estimate a scope's JSON size cheaply and say whether it needs adapting for cel."""
    measure = Measure()
    try:
        return json_size(scope, measure), measure.adapt
    except TypeError:
        pass
    # Keys JSON cannot encode (tuples, dates): adapt first, then measure the adapted copy.
    try:
        adapted = to_cel(scope)
    except UnsupportedValue:
        return 0, True
    except RecursionError:
        return None, True
    return json_size(adapted, Measure()), True


def to_cel(value: Any) -> Any:
    """Adapt a scope value to types cel converts faithfully."""
    if value is None or isinstance(value, str | bool | int | float | bytes | Decimal):
        return value
    if isinstance(value, Mapping):
        return {_cel_key(key): to_cel(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [to_cel(item) for item in value]
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        offset = value.utcoffset()
        return value.astimezone(dt.timezone(offset if offset is not None else dt.timedelta()))
    if isinstance(value, dt.timedelta):
        return value
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, bytearray):
        return bytes(value)
    if isinstance(value, set | frozenset):
        try:
            ordered = sorted(value)
        except TypeError:
            ordered = sorted(value, key=repr)
        # Sorted so replays see the same order whatever the hash seed.
        return [to_cel(item) for item in ordered]
    raise UnsupportedValue(f"{type(value).__name__} values cannot be used in expressions")


def _cel_key(key: Any) -> str | int:
    if isinstance(key, str) or (isinstance(key, int) and not isinstance(key, bool)):
        return key
    # As JSON would store them, which is what a replayed run reads back.
    return json.dumps(key) if isinstance(key, bool | float) or key is None else str(key)


def to_plain(value: Any) -> Any:
    """Turn a cel result into JSON-like Python values."""
    if isinstance(value, dict):
        return {key: to_plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [to_plain(item) for item in value]
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return _duration_text(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, cel.OptionalValue):
        return to_plain(value.value()) if value.has_value() else None
    return value


def _duration_text(value: dt.timedelta) -> str:
    micros = (value.days * 86_400 + value.seconds) * 1_000_000 + value.microseconds
    sign = "-" if micros < 0 else ""
    seconds, fraction = divmod(abs(micros), 1_000_000)
    decimals = f".{fraction:06d}".rstrip("0") if fraction else ""
    return f"{sign}{seconds}{decimals}s"
