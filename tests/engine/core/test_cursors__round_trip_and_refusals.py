"""A keyset cursor gives back the sort key it was made from, for the list that made it; one that
was edited, cut short, made up or given by another list (or another order of the same list) is
a CursorError, and so is any value the database would choke on: an id past bigint, NUL or half
a surrogate pair in text, a time without its offset."""

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from engine.core.cursors import MAX_CURSOR_LENGTH, CursorError, decode_cursor, encode_cursor

MOMENT = datetime(2026, 12, 6, 9, 30, 15, 123456, tzinfo=UTC)


def forged(parts: Any) -> str:
    """A cursor as someone could write one by hand: valid base64 of any JSON."""
    return base64.urlsafe_b64encode(json.dumps(parts).encode()).decode().rstrip("=")


def test_every_kind_of_key_comes_back_as_it_went_in() -> None:
    key = [MOMENT, timedelta(seconds=90, microseconds=7), "orders", 2**63 - 1]
    cursor = encode_cursor("runs:-created", key)
    assert "=" not in cursor and "+" not in cursor and "/" not in cursor
    kinds = [datetime, timedelta, str, int]
    assert decode_cursor("runs:-created", cursor, kinds) == key


def test_another_list_or_another_order_is_refused() -> None:
    cursor = encode_cursor("runs:-created", [MOMENT, 7])
    for scope in ("runs:created", "tasks:-created", "journal"):
        with pytest.raises(CursorError, match="not a cursor this list gave"):
            decode_cursor(scope, cursor, [datetime, int])


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "!!!",
        "bm9wZQ",  # "nope": base64, not JSON
        "gA",  # a byte that is not UTF-8
        forged({"scope": "journal"}),
        forged(["journal"]),  # the key is missing
        forged(["journal", 1, 2]),  # one part too many
        forged(["journal", "1"]),
        forged(["journal", True]),
        forged(["journal", 1.5]),
        forged(["journal", 2**63]),  # PostgreSQL's bigint stops short of it
        forged(["journal", -(2**63) - 1]),
        "W" * (MAX_CURSOR_LENGTH + 1),
        forged(["journal", [[[[[[1]]]]]]]),
        base64.urlsafe_b64encode(b"[" * 700).decode(),  # as deep as the length allows
    ],
)
def test_a_tampered_or_made_up_cursor_is_refused(cursor: str) -> None:
    with pytest.raises(CursorError):
        decode_cursor("journal", cursor, [int])


@pytest.mark.parametrize(
    ("part", "kind"),
    [
        ("a\x00b", str),
        ("\ud800", str),  # JSON's "\ud800": half a surrogate pair
        (5, str),
        ("2026-12-06T09:30:00", datetime),  # no offset: which 09:30?
        ("yesterday", datetime),
        (5, datetime),
        (2**63, timedelta),  # microseconds past bigint
        ("5", timedelta),
    ],
)
def test_a_part_the_database_would_choke_on_is_refused(part: Any, kind: type) -> None:
    with pytest.raises(CursorError):
        decode_cursor("s", forged(["s", part]), [kind])


def test_refusing_does_not_depend_on_base64_padding() -> None:
    cursor = encode_cursor("s", ["ab"])
    padded = cursor + "=" * (-len(cursor) % 4)
    assert decode_cursor("s", padded, [str]) == decode_cursor("s", cursor, [str]) == ["ab"]
