"""The schedule sweeper, with time skipped by passing `now`: a due schedule fires once and moves
on; each overlap policy (skip, buffer one, allow all, cancel previous) and each catch-up policy
(skip, run once, run all up to the limit) decides what its fires become, each recorded; jitter
delays a fire but keeps its nominal time; a 09:00 Berlin schedule crosses both clock changes;
pause, resume and run-now; code schedules are synced without overriding an operator's pause."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from engine.inbound.schedule_sync import sync_code_schedules
from engine.inbound.schedules import (
    fire_due_schedules,
    pause,
    resume,
    run_now,
    save_schedule,
    start_buffered_fires,
)
from engine.models import Run, RunStatus, Schedule, ScheduleFire

pytestmark = pytest.mark.django_db

NOON = datetime(2026, 6, 1, 12, tzinfo=UTC)


def hour(h: int, seconds: int = 0) -> datetime:
    return NOON.replace(hour=h) + timedelta(seconds=seconds)


def hourly(due: datetime | None = NOON, **fields: Any) -> Schedule:
    """An hourly schedule of test-sequence, due at noon (or when `due` says)."""
    values: dict[str, Any] = {
        "name": "hourly",
        "workflow": "test-sequence",
        "interval_seconds": 3600,
        "input": {"steps": 1},
    }
    schedule = save_schedule(Schedule(**(values | fields)))
    if due is not None:
        Schedule.objects.filter(pk=schedule.pk).update(next_fire_at=due)
    return schedule


def fires(schedule: Schedule) -> list[tuple[str, str, int | None]]:
    """(nominal time as HH:MM, outcome, run id) in nominal order."""
    return [
        (f"{fire.scheduled_for.astimezone(UTC):%H:%M}", fire.outcome, fire.run_id)
        for fire in ScheduleFire.objects.filter(schedule=schedule).order_by("scheduled_for")
    ]


def outcomes(schedule: Schedule) -> list[tuple[str, str]]:
    return [(at, outcome) for at, outcome, _ in fires(schedule)]


def finish(run_id: int | None) -> None:
    Run.objects.filter(pk=run_id).update(status=RunStatus.COMPLETED)


def test_a_due_schedule_starts_its_workflow_once_and_moves_on() -> None:
    schedule = hourly(name="report")
    assert fire_due_schedules(now=hour(12, 5)) == 1
    [(at, outcome, run_id)] = fires(schedule)
    assert (at, outcome) == ("12:00", "started")
    run = Run.objects.get(pk=run_id)
    assert (run.workflow, run.trigger, run.input) == ("test-sequence", "schedule", {"steps": 1})
    assert run.trigger_ref.startswith(f"schedule {schedule.pk}: report at 2026-06-01 12:00")
    schedule.refresh_from_db()
    assert schedule.next_fire_at == hour(13)
    assert schedule.last_fired_at == hour(12, 5)
    assert fire_due_schedules(now=hour(12, 10)) == 0
    assert len(fires(schedule)) == 1


def test_a_paused_schedule_does_not_fire() -> None:
    schedule = hourly(paused=True)
    Schedule.objects.filter(pk=schedule.pk).update(next_fire_at=NOON)
    assert fire_due_schedules(now=hour(12, 5)) == 0
    assert fires(schedule) == []


def test_overlap_skip_records_a_skipped_fire_while_the_run_goes_on() -> None:
    schedule = hourly(overlap="skip")
    fire_due_schedules(now=hour(12, 1))
    fire_due_schedules(now=hour(13, 1))
    [first, second] = fires(schedule)
    assert first[1] == "started"
    assert second == ("13:00", "skipped", None)
    finish(first[2])
    fire_due_schedules(now=hour(14, 1))
    assert fires(schedule)[2][:2] == ("14:00", "started")


def test_overlap_buffer_one_holds_one_fire_until_the_run_ends() -> None:
    schedule = hourly(overlap="buffer_one")
    fire_due_schedules(now=hour(12, 1))
    fire_due_schedules(now=hour(13, 1))
    fire_due_schedules(now=hour(14, 1))
    assert outcomes(schedule) == [("12:00", "started"), ("13:00", "buffered"), ("14:00", "skipped")]
    schedule.refresh_from_db()
    assert schedule.buffered_for == hour(13)
    assert start_buffered_fires() == 0  # the first run is still going

    finish(fires(schedule)[0][2])
    assert start_buffered_fires() == 1
    buffered = fires(schedule)[1]
    assert buffered[1] == "buffered"
    assert Run.objects.get(pk=buffered[2]).status == RunStatus.PENDING
    schedule.refresh_from_db()
    assert schedule.buffered_for is None
    assert start_buffered_fires() == 0


def test_overlap_allow_all_starts_a_run_each_time() -> None:
    schedule = hourly(overlap="allow_all")
    fire_due_schedules(now=hour(12, 1))
    fire_due_schedules(now=hour(13, 1))
    assert outcomes(schedule) == [("12:00", "started"), ("13:00", "started")]
    assert Run.objects.filter(schedule_fires__schedule=schedule, status="pending").count() == 2


def test_overlap_cancel_previous_cancels_the_run_still_going() -> None:
    schedule = hourly(overlap="cancel_previous")
    fire_due_schedules(now=hour(12, 1))
    fire_due_schedules(now=hour(13, 1))
    [first, second] = fires(schedule)
    assert second[1] == "replaced"
    previous = Run.objects.get(pk=first[2])
    assert previous.status == RunStatus.CANCELLED
    assert "replaced by the next fire of schedule hourly" in previous.error["message"]
    assert Run.objects.get(pk=second[2]).status == RunStatus.PENDING


def test_catch_up_skip_runs_nothing_that_was_missed() -> None:
    """Down from 08:30 to 12:00:20: 09, 10 and 11 were missed; 12:00 is on time and runs."""
    schedule = hourly(catch_up="skip", due=hour(9))
    fire_due_schedules(now=hour(12, 20))
    assert outcomes(schedule) == [
        ("09:00", "missed"),
        ("10:00", "missed"),
        ("11:00", "missed"),
        ("12:00", "started"),
    ]
    late = hourly(catch_up="skip", due=hour(9))
    fire_due_schedules(now=hour(12, 30 * 60))
    assert [outcome for _, outcome in outcomes(late)] == ["missed"] * 4
    late.refresh_from_db()
    assert late.next_fire_at == hour(13)


def test_catch_up_run_once_starts_one_run_for_everything_missed() -> None:
    schedule = hourly(catch_up="run_once", due=hour(9))
    fire_due_schedules(now=hour(12, 30 * 60))
    assert outcomes(schedule) == [
        ("09:00", "missed"),
        ("10:00", "missed"),
        ("11:00", "missed"),
        ("12:00", "started"),
    ]
    assert Run.objects.filter(schedule_fires__schedule=schedule).count() == 1


def test_catch_up_run_all_runs_each_missed_fire_up_to_the_limit() -> None:
    schedule = hourly(catch_up="run_all", catch_up_limit=2, overlap="allow_all", due=hour(9))
    fire_due_schedules(now=hour(12, 30 * 60))
    assert outcomes(schedule) == [
        ("09:00", "missed"),
        ("10:00", "missed"),
        ("11:00", "started"),
        ("12:00", "started"),
    ]
    assert Run.objects.filter(schedule_fires__schedule=schedule).count() == 2


def test_catch_up_fires_still_meet_the_overlap_policy() -> None:
    """run_all with overlap=skip: the first missed fire runs, the next finds it going."""
    schedule = hourly(catch_up="run_all", catch_up_limit=3, overlap="skip", due=hour(10))
    fire_due_schedules(now=hour(12, 30 * 60))
    assert outcomes(schedule) == [
        ("10:00", "started"),
        ("11:00", "skipped"),
        ("12:00", "skipped"),
    ]


def test_jitter_delays_the_fire_but_not_its_nominal_time() -> None:
    schedule = hourly(jitter_seconds=600, due=None)
    schedule.refresh_from_db()
    now = timezone.now()
    nominal = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    assert nominal <= schedule.next_fire_at <= nominal + timedelta(seconds=600)
    moment = schedule.next_fire_at
    assert fire_due_schedules(now=moment - timedelta(microseconds=1)) == 0
    assert fire_due_schedules(now=moment) == 1
    [(at, outcome, _)] = fires(schedule)
    assert (at, outcome) == (f"{nominal:%H:%M}", "started")
    schedule.refresh_from_db()
    assert nominal + timedelta(hours=1) <= schedule.next_fire_at
    assert schedule.next_fire_at <= nominal + timedelta(hours=1, seconds=600)


def test_a_nine_oclock_berlin_schedule_fires_at_nine_through_both_clock_changes() -> None:
    schedule = save_schedule(
        Schedule(
            name="berlin",
            workflow="test-sequence",
            input={"steps": 1},
            cron="0 9 * * *",
            timezone="Europe/Berlin",
            overlap="allow_all",
        )
    )
    for first in (datetime(2026, 3, 28, 8, tzinfo=UTC), datetime(2026, 10, 24, 7, tzinfo=UTC)):
        Schedule.objects.filter(pk=schedule.pk).update(next_fire_at=first)
        for _ in range(3):
            schedule.refresh_from_db()
            assert fire_due_schedules(now=schedule.next_fire_at + timedelta(seconds=2)) == 1
    fired = ScheduleFire.objects.filter(schedule=schedule).order_by("scheduled_for")
    local = [f"{fire.scheduled_for.astimezone(UTC):%m-%d %H:%M}" for fire in fired]
    # 09:00 CET is 08:00 UTC, 09:00 CEST is 07:00 UTC.
    assert local == [
        "03-28 08:00",
        "03-29 07:00",
        "03-30 07:00",
        "10-24 07:00",
        "10-25 08:00",
        "10-26 08:00",
    ]


def test_resume_starts_from_now_without_catching_up_the_pause() -> None:
    schedule = hourly()
    paused = pause(schedule)
    assert paused.paused and paused.next_fire_at is None
    resumed = resume(schedule)
    now = timezone.now()
    assert not resumed.paused
    assert now < resumed.next_fire_at <= now + timedelta(hours=1)
    assert fire_due_schedules() == 0
    assert fires(schedule) == []


def test_run_now_starts_a_run_even_when_paused_or_overlapping() -> None:
    schedule = hourly(paused=True)
    first = run_now(schedule)
    second = run_now(schedule)
    assert first.pk != second.pk
    assert first.trigger == "schedule" and "(run now)" in first.trigger_ref
    recorded = ScheduleFire.objects.filter(schedule=schedule)
    assert {(fire.outcome, fire.manual) for fire in recorded} == {("started", True)}
    assert recorded.count() == 2


def test_a_schedule_of_an_unknown_workflow_is_paused_not_retried() -> None:
    schedule = hourly(workflow="no-such-workflow")
    assert fire_due_schedules(now=hour(12, 1)) == 0
    schedule.refresh_from_db()
    assert schedule.paused and schedule.next_fire_at is None


def test_code_schedules_are_synced_and_an_operator_pause_is_kept() -> None:
    Schedule.objects.filter(source="code", source_key="daily-report").delete()
    Schedule.objects.create(
        name="gone",
        workflow="test-sequence",
        source="code",
        source_key="removed-from-the-code",
        cron="@daily",
        created_at=timezone.now(),
        updated_at=timezone.now(),
    )
    report = sync_code_schedules()
    assert report.created >= 1 and report.deleted == 1
    daily = Schedule.objects.get(source="code", source_key="daily-report")
    assert (daily.workflow, daily.cron, daily.timezone) == (
        "daily-report",
        "0 9 * * *",
        "Europe/Berlin",
    )
    assert daily.paused and daily.next_fire_at is None
    assert daily.name == "Daily run report"
    assert daily.input == {"to": "ops@acme.example"}

    resume(daily)
    assert sync_code_schedules().created == 0
    daily.refresh_from_db()
    assert not daily.paused
    assert daily.next_fire_at is not None
