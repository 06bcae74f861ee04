"""log() lines: formatted like the logging module, bounded per step attempt with a marker."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from engine.core import log, parallel, step, wait_for, workflow
from engine.core.errors import DefinitionError
from engine.core.logs import MAX_BYTES, MAX_LINE_BYTES, LogBook, format_message
from engine.core.testing import WorkflowTester

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


@step
def weigh(parcel: int) -> int:
    log("weighing parcel %d", parcel)
    return parcel * 2


@workflow("test-tester-logs")
def logs_across_a_wait(order: dict[str, Any]) -> int:
    log("order %s", order["id"], level="debug")
    weights = parallel([weigh.named(f"weigh-{n}").call(n) for n in (1, 2)])
    wait_for("Parcel.picked", match={"order": order["id"]})
    log("picked")
    return int(sum(weights))


def test_the_tester_keeps_each_line_once_across_the_replay_after_a_wait() -> None:
    """Workflow lines, parallel steps' lines, then the line after the wait: none repeated by
    the replay that the event causes."""
    tester = WorkflowTester()
    tester.send_event("Parcel.picked", {"order": 4}, after=timedelta(minutes=5))
    done = tester.run(logs_across_a_wait, {"id": 4})
    assert done.status == "completed" and done.advances == 2
    assert done.logs == [
        ("debug", "order 4"),
        ("info", "weighing parcel 1"),
        ("info", "weighing parcel 2"),
        ("info", "picked"),
    ]
