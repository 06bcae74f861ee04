"""monitoring.timeline lays a journal out as rows of attempts split into queued, running,
retry back-off and waiting spans, hides internal rows, keeps parallel branches apart and
marks child runs; monitoring.verdict says it in one line. No database: rows are unsaved."""

from datetime import UTC, datetime, timedelta
from typing import Any

from engine.models import StepRecord
from monitoring.timeline import build_timeline, error_message
from monitoring.verdict import verdict

T0 = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def record(
    pk: int, seq: int, name: str, start: float, end: float | None, **fields: Any
) -> StepRecord:
    fields.setdefault("kind", "step")
    fields.setdefault("status", "completed" if end is not None else "waiting")
    return StepRecord(
        pk=pk,
        run_id=1,
        seq=seq,
        name=name,
        started_at=at(start),
        finished_at=at(end) if end is not None else None,
        **fields,
    )


def kinds(row_attempt: Any) -> list[tuple[str, float, float]]:
    return [
        (s.kind, (s.start - T0).total_seconds(), (s.end - T0).total_seconds())
        for s in row_attempt.segments
    ]


def test_a_retried_step_shows_queued_running_and_back_off_per_attempt() -> None:
    journal = [
        record(1, 0, "reserve", 0.5, 1.0),
        record(
            2,
            1,
            "charge",
            1.2,
            2.0,
            attempt=1,
            status="retrying",
            retry_at=at(5),
            error={"type": "httpx.HTTPStatusError", "message": "503 from api.example.com"},
        ),
        record(3, 1, "charge", 5.5, 6.0, attempt=2, status="completed"),
    ]
    timeline = build_timeline(journal, run_start=T0, now=at(10), run_end=at(6))
    assert [row.name for row in timeline.rows] == ["reserve", "charge"]
    reserve, charge = timeline.rows
    assert kinds(reserve.attempts[0]) == [("queued", 0, 0.5), ("running", 0.5, 1.0)]
    first, second = charge.attempts
    # Queued after the previous step ended, ran, failed, then backed off until retry_at...
    assert kinds(first) == [("queued", 1.0, 1.2), ("running", 1.2, 2.0), ("backoff", 2.0, 5.0)]
    # ...and the next attempt queued from the end of the back-off until a worker took it.
    assert kinds(second) == [("queued", 5.0, 5.5), ("running", 5.5, 6.0)]
    assert first.error_message == "503 from api.example.com (HTTPStatusError)"
    assert timeline.as_json()["rows"][1]["attempts"][0]["segments"][2][:3] == [
        "backoff",
        2000,
        5000,
    ]


def test_waits_say_what_they_wait_for_and_stay_open_until_now() -> None:
    journal = [
        record(1, 0, "nap", 0, 60, kind="sleep", wake_at=at(60)),
        record(2, 1, "paid", 60, None, kind="wait", detail={"event_types": ["Order.paid"]}),
        record(3, 2, "approve", 60, None, kind="task"),
    ]
    timeline = build_timeline(journal, run_start=T0, now=at(7260), waits={3: "approval by vp"})
    nap, paid, approve = (row.attempts[0].segments[-1] for row in timeline.rows)
    assert nap.kind == "waiting" and nap.label.startswith("a timer until") and not nap.open
    assert paid.kind == "waiting" and paid.label == "event Order.paid" and paid.open
    assert approve.label == "approval by vp" and approve.end == at(7260) and approve.open
    line = verdict(
        status="waiting",
        created_at=T0,
        started_at=T0,
        finished_at=None,
        now=at(7260),
        run_error="",
        timeline=timeline,
    )
    assert line == "waiting 2 h 00 min for approval by vp"


def test_internal_value_rows_are_hidden_unless_asked_for() -> None:
    journal = [record(1, 0, "now", 0, 0, kind="value")]
    journal += [record(2 + i, 1 + i, f"send[{i}]", i, i + 0.5) for i in range(3)]
    journal += [record(10, 4, "next", 3, 3, kind="value")]
    hidden = build_timeline(journal, run_start=T0, now=at(5))
    assert [row.name for row in hidden.rows] == ["send[0]", "send[1]", "send[2]"]
    assert hidden.hidden_internal == 2
    shown = build_timeline(journal, run_start=T0, now=at(5), show_internal=True)
    assert len(shown.rows) == 5 and shown.hidden_internal == 0
    assert [row.internal for row in shown.rows] == [True, False, False, False, True]


def test_parallel_branches_get_rows_of_their_own_queued_from_the_group() -> None:
    journal = [
        record(1, 0, "fan", 1, None, kind="parallel", detail={"count": 2}),
        record(2, 0, "a", 1.5, 3, branch=1),
        record(3, 0, "b", 2.5, None, branch=2, status="dispatched"),
        record(4, 0, "c", 1, None, branch=3, status="queued"),
    ]
    timeline = build_timeline(journal, run_start=T0, now=at(4))
    assert [(row.name, row.branch) for row in timeline.rows] == [
        ("fan", 0),
        ("a", 1),
        ("b", 2),
        ("c", 3),
    ]
    fan, a, b, c = timeline.rows
    assert fan.attempts[0].segments[-1].label == "2 parallel steps"
    assert kinds(a.attempts[0]) == [("queued", 1, 1.5), ("running", 1.5, 3)]
    assert kinds(b.attempts[0]) == [("queued", 1, 2.5), ("running", 2.5, 4)]
    assert kinds(c.attempts[0]) == [("queued", 1, 4)] and c.attempts[0].segments[0].open
    # Branches overlap in time: side by side, not one after the other.
    assert a.start < b.end and b.start < a.end


def test_a_child_run_row_names_the_child_and_its_wait() -> None:
    journal = [
        record(1, 0, "ship", 0, 0, kind="child_start", child_run_id=42, output={"run_id": 42}),
        record(2, 1, "ship", 0, 9, kind="child_result", child_run_id=42),
    ]
    timeline = build_timeline(journal, run_start=T0, now=at(9), run_end=at(9))
    start, result = timeline.rows
    assert start.child_run_id == 42 and result.child_run_id == 42
    assert result.attempts[0].segments[-1].label == "child run #42"
    assert timeline.as_json()["rows"][1]["child"] == 42


def test_the_verdict_of_a_finished_run() -> None:
    journal = [
        record(
            1,
            0,
            "charge",
            0,
            1,
            status="retrying",
            retry_at=at(2),
            error={"type": "ValueError", "message": "503 from api.example.com"},
        ),
        record(
            2,
            0,
            "charge",
            2,
            3,
            attempt=2,
            status="failed",
            error={"type": "ValueError", "message": "card declined"},
        ),
    ]
    timeline = build_timeline(journal, run_start=T0, now=at(9), run_end=at(3))
    failed = verdict(
        status="failed",
        created_at=T0,
        started_at=T0,
        finished_at=at(3),
        now=at(9),
        run_error="",
        timeline=timeline,
    )
    assert failed == "failed at charge after 2 attempts: card declined (ValueError)"
    retrying = build_timeline(journal[:1], run_start=T0, now=at(1.5))
    line = verdict(
        status="running",
        created_at=T0,
        started_at=T0,
        finished_at=None,
        now=at(1.5),
        run_error="",
        timeline=retrying,
    )
    assert line == "step charge retried once: 503 from api.example.com (ValueError)"
    done = verdict(
        status="completed",
        created_at=T0,
        started_at=T0,
        finished_at=at(3.2),
        now=at(9),
        run_error="",
        timeline=build_timeline([], run_start=T0, now=at(9)),
    )
    assert done == "completed in 3.2 s"


def test_errors_read_message_first_and_unwrap_step_failed() -> None:
    wrapped = {"type": "StepFailed", "cause": {"type": "KeyError", "message": "'sku'"}}
    assert error_message(wrapped) == "'sku' (KeyError)"
    assert error_message({"type": "Cancelled"}) == "Cancelled"
    assert error_message(None) == ""
