"""Keyset cursors: the opaque text a list hands out to say where its next page starts.

A cursor is unpadded URL-safe base64 of the JSON `[scope, *key]`: the list that gave it (with
its order, e.g. `runs:-created`) and the last row's sort key. Decoding checks the scope and every
part of the key against the kinds that list expects, so a cursor that was edited, cut short or
given by another list (or the same list in another order) is a CursorError, never a value the
database then chokes on: an id past bigint, NUL or half a surrogate pair in text, a naive time.
"""

import base64
import binascii
import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

__all__ = ["CursorError", "decode_cursor", "encode_cursor"]

MAX_CURSOR_LENGTH = 1000
"""Longer than any cursor a list gives; checked before decoding (deep JSON nesting recurses)."""
BIGINT = range(-(2**63), 2**63)
"""What PostgreSQL compares with a bigint column; past it the query itself fails."""

type KeyPart = int | str | datetime | timedelta


class CursorError(ValueError):
    """A cursor this list did not give."""

    def __init__(self) -> None:
        super().__init__("not a cursor this list gave")


def encode_cursor(scope: str, key: Sequence[KeyPart]) -> str:
    """The cursor after a row whose sort key is `key`, valid for the list named `scope`."""
    parts: list[Any] = [scope]
    for part in key:
        if isinstance(part, datetime):
            parts.append(part.isoformat())
        elif isinstance(part, timedelta):
            parts.append(part // timedelta(microseconds=1))
        else:
            parts.append(part)
    return base64.urlsafe_b64encode(json.dumps(parts).encode()).decode().rstrip("=")


def decode_cursor(scope: str, cursor: str, kinds: Sequence[type[KeyPart]]) -> list[Any]:
    """The sort key a cursor of `scope` holds, each part of the kind given; else CursorError."""
    if len(cursor) > MAX_CURSOR_LENGTH:
        raise CursorError
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        parts = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, binascii.Error, UnicodeDecodeError, RecursionError):
        raise CursorError from None
    if not isinstance(parts, list) or parts[:1] != [scope] or len(parts) != len(kinds) + 1:
        raise CursorError
    return [_part(value, kind) for value, kind in zip(parts[1:], kinds, strict=True)]


def _part(value: Any, kind: type[KeyPart]) -> KeyPart:
    if kind is datetime:
        try:
            moment = datetime.fromisoformat(_text(value))
        except ValueError:
            raise CursorError from None
        if moment.utcoffset() is None:
            raise CursorError
        return moment
    if kind is timedelta:
        # Microseconds within bigint are within timedelta's range too (it reaches ~8.6e19).
        return timedelta(microseconds=_whole(value))
    return _whole(value) if kind is int else _text(value)


def _whole(value: Any) -> int:
    # bool is an int to Python, never to a cursor this module wrote.
    if not isinstance(value, int) or isinstance(value, bool) or value not in BIGINT:
        raise CursorError
    return value


def _text(value: Any) -> str:
    if not isinstance(value, str) or "\x00" in value:
        raise CursorError
    try:
        value.encode()  # half a surrogate pair (JSON's "\ud800") cannot be sent to PostgreSQL
    except UnicodeEncodeError:
        raise CursorError from None
    return value
