"""log() lines: formatted like the logging module, bounded per step attempt with a marker."""

from datetime import UTC, datetime

import pytest

from engine.core import log
from engine.core.errors import DefinitionError
from engine.core.logs import MAX_BYTES, MAX_LINE_BYTES, LogBook, format_message

AT = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


def test_messages_are_formatted_and_a_mismatch_keeps_the_values() -> None:
    assert format_message("charged %s for %d items", ("EUR 5", 3)) == "charged EUR 5 for 3 items"
    assert format_message("no placeholder", (42,)) == "no placeholder 42"
    assert format_message("%d", ("x",)) == "%d 'x'"
    long = format_message("x" * (MAX_LINE_BYTES * 2), ())
    assert len(long.encode()) <= MAX_LINE_BYTES and long.endswith("…")


def test_a_book_keeps_lines_up_to_its_bytes_then_counts_the_rest() -> None:
    book = LogBook()
    assert book.recorded() is None
    chunk = "y" * 1000
    for _ in range(MAX_BYTES // 1000 + 5):
        book.add("info", chunk, AT)
    book.add("error", "short, but after the limit", AT)
    kept = book.recorded()
    assert kept is not None
    assert len(kept) == MAX_BYTES // 1000 + 1
    assert kept[-1]["truncated"] == 6
    assert kept[-1]["level"] == "warning"
    assert kept[0] == {"at": AT.isoformat(), "level": "info", "message": chunk}


def test_log_outside_a_run_or_with_an_unknown_level_is_refused() -> None:
    with pytest.raises(DefinitionError, match="inside a running workflow or step"):
        log("nowhere")
    with pytest.raises(DefinitionError, match="level"):
        log("loud", level="fatal")
