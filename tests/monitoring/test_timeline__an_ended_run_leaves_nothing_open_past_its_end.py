"""A run that ended (timed out, cancelled, failed) while waiting out a retry back-off, a wait,
a sleep, a queued branch or a running step ends every segment at or before its end, and none
is open: the laid-out timeline, the API's answer folded (summed in SQL) and unfolded, and a
folded group's span and open flag."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import Client

from engine.models import Run, RunStatus, StepRecord
from monitoring.timeline import build_timeline
from tests.monitoring.fanned_out_runs import loop_run, publish_loop

T0 = datetime(2026, 12, 6, 21, 34, 40, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def attempt(pk: int, n: int, start: float, end: float, retry_at: float) -> StepRecord:
    """One failed attempt of `call-partner`, retried 8 s after it failed."""
    return StepRecord(
        pk=pk,
        run_id=1,
        seq=1,
        name="call-partner",
        kind="step",
        attempt=n,
        status="retrying",
        error={"type": "OSError", "message": "503"},
        started_at=at(start),
        finished_at=at(end),
        retry_at=at(retry_at),
    )


def timed_out_journal() -> list[StepRecord]:
    """The exploratory repro: a 20 s run timeout, a step that always fails, retried every 8 s;
    the run timed out at 52.8 s while its last attempt waited for 57.4 s."""
    return [
        StepRecord(
            pk=1,
            run_id=1,
            seq=0,
            name="prepare",
            kind="step",
            status="completed",
            started_at=at(0.01),
            finished_at=at(0.03),
        ),
        attempt(2, 1, 0.05, 0.1, 8.1),
        attempt(3, 2, 8.15, 8.2, 16.2),
        attempt(4, 3, 16.25, 16.3, 24.3),
        attempt(5, 4, 24.35, 24.4, 32.4),
        attempt(6, 5, 32.45, 32.5, 40.5),
        attempt(7, 6, 40.55, 40.6, 48.6),
        attempt(8, 7, 48.65, 49.112, 57.416),
    ]


def every_segment(rows: list[dict[str, Any]]) -> list[list[Any]]:
    return [s for row in rows for a in row["attempts"] for s in a["segments"]]


def test_a_back_off_the_run_did_not_live_to_see_stops_at_its_end() -> None:
    timeline = build_timeline(timed_out_journal(), run_start=T0, now=at(90), run_end=at(52.8))
    last = timeline.rows[1].attempts[-1].segments[-1]
    assert (last.kind, last.start, last.end, last.open) == ("backoff", at(49.112), at(52.8), False)
    assert last.label == "next attempt at 21:35:37, not reached: the run ended first"
    assert timeline.end == at(52.8)  # "2 rows over 52.8 s", not 57.4 s
    body = timeline.as_json()
    assert body["span"] == 52800
    assert every_segment(body["rows"])[-1] == [
        "backoff",
        49112,
        52800,
        "next attempt at 21:35:37, not reached: the run ended first",
        False,
    ]
    # The back-offs the run did see out keep their end and their plain label.
    earlier = timeline.rows[1].attempts[0].segments[-1]
    assert (earlier.end, earlier.label) == (at(8.1), "next attempt at 21:34:48")


def test_the_same_back_off_is_open_while_the_run_goes_on() -> None:
    timeline = build_timeline(timed_out_journal(), run_start=T0, now=at(52.8))
    last = timeline.rows[1].attempts[-1].segments[-1]
    assert (last.end, last.open, last.label) == (at(57.416), True, "next attempt at 21:35:37")


def test_waits_sleeps_queued_and_running_rows_left_open_are_closed_at_the_end() -> None:
    def row(pk: int, seq: int, kind: str, status: str, **fields: Any) -> StepRecord:
        fields.setdefault("started_at", at(1))
        return StepRecord(
            pk=pk, run_id=1, seq=seq, name=f"{kind}-{pk}", kind=kind, status=status, **fields
        )

    journal = [
        row(1, 0, "parallel", "waiting", detail={"count": 3}),
        row(2, 0, "wait", "waiting", branch=1, detail={"event_types": ["Order.paid"]}),
        row(3, 0, "sleep", "waiting", branch=2, wake_at=at(3600)),
        row(4, 0, "step", "running", branch=3),
        row(5, 0, "step", "queued", branch=4),
        row(6, 0, "task", "waiting", branch=5),
    ]
    timeline = build_timeline(journal, run_start=T0, now=at(90), run_end=at(20))
    segments = [s for r in timeline.rows for a in r.attempts for s in a.segments]
    assert {s.kind for s in segments} == {"waiting", "running", "queued"}
    assert all(s.end <= at(20) and not s.open for s in segments)
    assert timeline.end == at(20)


def client_of(make_user: Any) -> Client:
    client = Client()
    client.force_login(make_user("vera", "viewers"))
    return client


@pytest.mark.django_db
def test_the_api_answers_the_same_folded_and_unfolded(make_user: Any) -> None:
    run = Run.objects.create(
        workflow="partner",
        version="v1",
        status=RunStatus.TIMED_OUT,
        created_at=T0,
        started_at=T0,
        finished_at=at(52.8),
    )
    for record in timed_out_journal():
        record.pk, record.run_id = None, run.pk
        record.save()
    client = client_of(make_user)
    for fold in ("true", "false"):
        body = client.get(f"/api/runs/{run.pk}/timeline?fold={fold}").json()
        assert body["span"] == 52800, fold
        segments = every_segment(body["rows"])
        assert segments[-1][:3] == ["backoff", 49112, 52800], fold
        assert all(s[2] <= 52800 and not (len(s) > 4 and s[4]) for s in segments), fold


@pytest.mark.django_db
def test_a_folded_group_of_an_ended_run_is_not_open(make_user: Any) -> None:
    """A loop cancelled while one item backed off and another waited: its folded row (the
    SQL's figures) ends at the run's end and is not open."""
    run = loop_run(publish_loop(), 30)
    assert run.finished_at is not None
    end = run.finished_at
    items = StepRecord.objects.filter(run=run, branch__gt=0)
    items.filter(name="work[3]").update(
        status="retrying", retry_at=end + timedelta(minutes=5), error={"type": "OSError"}
    )
    items.filter(name="work[4]").update(kind="wait", status="waiting", finished_at=None)
    Run.objects.filter(pk=run.pk).update(status=RunStatus.CANCELLED)
    body = client_of(make_user).get(f"/api/runs/{run.pk}/timeline").json()
    (group,) = [row for row in body["rows"] if row.get("kind") == "group"]
    assert group["open"] is False
    assert group["end"] <= body["span"] == round((end - run.started_at).total_seconds() * 1000)
