"""A run that ended and was retried stood stopped in between: its timeline shows that time as
no span at all, not as "waiting for a worker". The first attempt after the retry queues from
the retry; what the run had open when it ended stops at that end. retry_run records when the
run ended and when it was retried (Run.stops), and the API (folded, summed in SQL, and
unfolded) and the run page's first answer say the same."""

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from engine.models import Run, RunStatus, StepRecord
from engine.runtime.runs import retry_run
from monitoring.run_timeline import run_stops
from monitoring.timeline import build_timeline

T0 = datetime(2026, 12, 6, 21, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def approval_journal(start: datetime, retried_row_start: datetime) -> list[StepRecord]:
    """The exploratory repro: `submit`, then an approval; the run timed out at 20 s waiting
    for it, was retried, and the approval waited again (and was given)."""

    def row(seq: int, name: str, kind: str, status: str, **fields: Any) -> StepRecord:
        return StepRecord(run_id=1, seq=seq, name=name, kind=kind, status=status, **fields)

    return [
        row(
            0,
            "submit",
            "step",
            "completed",
            started_at=start + timedelta(milliseconds=10),
            finished_at=start + timedelta(milliseconds=30),
        ),
        row(
            1,
            "approve",
            "task",
            "waiting",
            superseded=True,
            started_at=start + timedelta(milliseconds=30),
        ),
        row(
            1,
            "approve",
            "task",
            "completed",
            started_at=retried_row_start,
            finished_at=retried_row_start + timedelta(seconds=7),
        ),
    ]


def segments(row: Any) -> list[tuple[str, float, float, bool]]:
    return [
        (s.kind, (s.start - T0).total_seconds(), (s.end - T0).total_seconds(), s.open)
        for a in row.attempts
        for s in a.segments
    ]


def test_the_stopped_time_is_not_queueing_and_the_old_wait_stops_at_the_end() -> None:
    journal = approval_journal(T0, at(32.748))
    for pk, record in enumerate(journal, start=1):
        record.pk = pk
    timeline = build_timeline(journal, run_start=T0, now=at(45), stops=[(at(20), at(32.7))])
    _, again, before = timeline.rows
    assert (again.superseded, before.superseded) == (False, True)
    # Queued from the retry (48 ms), not from `submit`'s end (32.7 s "waiting for a worker").
    assert segments(again) == [
        ("queued", 32.7, 32.748, False),
        ("waiting", 32.748, 39.748, False),
    ]
    # The wait the run had open when it timed out stops there, no longer open "until now".
    assert segments(before) == [("waiting", 0.03, 20, False)]
    without = build_timeline(journal, run_start=T0, now=at(45))
    assert segments(without.rows[1])[0] == ("queued", 0.03, 32.748, False)


def test_a_retry_of_a_retry_and_a_back_off_cut_by_a_stop() -> None:
    """Each stop cuts what began before it; each retry starts the next attempt's queueing."""
    journal = [
        StepRecord(
            pk=1,
            run_id=1,
            seq=0,
            name="call",
            kind="step",
            status="retrying",
            superseded=True,
            started_at=at(1),
            finished_at=at(2),
            retry_at=at(30),
        ),
        StepRecord(
            pk=2,
            run_id=1,
            seq=0,
            name="call",
            kind="step",
            status="retrying",
            superseded=True,
            attempt=2,
            started_at=at(50.5),
            finished_at=at(51),
            retry_at=at(90),
        ),
        StepRecord(
            pk=3, run_id=1, seq=0, name="call", kind="step", status="completed",
            started_at=at(100.2), finished_at=at(101),
        ),
    ]  # fmt: skip
    timeline = build_timeline(
        journal,
        run_start=T0,
        now=at(200),
        run_end=at(101),
        stops=[(at(10), at(50)), (at(60), at(100))],
    )
    done, set_aside = timeline.rows
    assert segments(done) == [("queued", 100, 100.2, False), ("running", 100.2, 101, False)]
    assert segments(set_aside) == [
        ("running", 1, 2, False),
        ("backoff", 2, 10, False),
        # From the first retry, not from the back-off the first stop cut short.
        ("queued", 50, 50.5, False),
        ("running", 50.5, 51, False),
        ("backoff", 51, 60, False),
    ]


def first_on_page(client: Client, run_id: int) -> dict[str, Any]:
    page = client.get(f"/runs/{run_id}/").content.decode()
    found = re.search(r'<script id="timeline-first" type="application/json">(.*?)</script>', page)
    assert found is not None
    answer: dict[str, Any] = json.loads(found.group(1))
    return answer


@pytest.mark.django_db
def test_retry_run_records_the_stop_and_the_api_and_page_show_it(make_user: Any) -> None:
    start = timezone.now() - timedelta(seconds=40)
    run = Run.objects.create(
        workflow="expenses",
        version="v1",
        status=RunStatus.TIMED_OUT,
        error={"type": "RunTimeout", "message": "the run passed its timeout"},
        created_at=start,
        started_at=start,
        finished_at=start + timedelta(seconds=20),
        stopped_at=1,
    )
    submit, waited, _ = approval_journal(start, start)
    for record in (submit, waited):
        record.run_id = run.pk
        record.superseded = False
        record.save()

    retry_run(run.pk)

    run.refresh_from_db()
    ((ended, retried),) = run_stops(run)
    assert ended == start + timedelta(seconds=20)
    assert timezone.now() - timedelta(seconds=5) < retried <= timezone.now()
    waited.refresh_from_db()
    assert waited.superseded
    # The worker takes the run up 48 ms after the retry and waits for the approval again.
    StepRecord.objects.create(
        run=run,
        seq=1,
        name="approve",
        kind="task",
        status="waiting",
        started_at=retried + timedelta(milliseconds=48),
    )
    client = Client()
    client.force_login(make_user("vera", "viewers"))
    answers = [client.get(f"/api/runs/{run.pk}/timeline?fold={f}").json() for f in ("1", "0")]
    answers.append(first_on_page(client, run.pk))
    retried_ms = round((retried - start).total_seconds() * 1000)
    for answer in answers:
        rows = {(row["seq"], bool(row.get("superseded"))): row for row in answer["rows"]}
        again = rows[(1, False)]["attempts"][0]["segments"]
        assert again[0][:3] == ["queued", retried_ms, retried_ms + 48]
        assert again[1][0] == "waiting" and again[1][4] is True  # waiting now, for real
        assert rows[(1, True)]["attempts"][0]["segments"] == [
            ["waiting", 30, 20000, "a person's decision", False]
        ]
