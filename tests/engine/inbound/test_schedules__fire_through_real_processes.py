"""Schedules fired by real timer-loop processes, their runs executed by a real Celery worker: a
due schedule starts its workflow; each overlap and catch-up policy; two sweepers, as threads
and as two timer-loop processes, fire each due schedule exactly once; pause, resume and run-now;
a graph's `trigger.schedule`, published through the API, starts the graph on its schedule."""

import socket
import threading
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from accounts.models import ApiToken
from engine.inbound.schedules import fire_due_schedules, pause, resume, run_now, save_schedule
from engine.models import ProcessHeartbeat, Run, Schedule, ScheduleFire
from engine.runtime.runs import cancel_run
from tests.engine.graph.graphs import graph
from tests.engine.runtime.test_engine__runs_through_real_workers import wait_for_status
from tests.processes import RunningProcess, start_process, wait_until

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("celery_worker", "timer_loop", "side_effects_table"),
]


def scheduled(workflow: str = "test-sequence", input: Any = None, **fields: Any) -> Schedule:
    """An hourly admin schedule, not due yet (its next fire is within the hour)."""
    values: dict[str, Any] = {
        "name": f"test {uuid.uuid4().hex[:6]}",
        "workflow": workflow,
        "interval_seconds": 3600,
        "input": {"steps": 1} if input is None else input,
    }
    return save_schedule(Schedule(**(values | fields)))


def due_now(schedule: Schedule) -> datetime:
    """Make the schedule due: its hours now count from a second ago, the first one due."""
    start = timezone.now() - timedelta(seconds=1)
    Schedule.objects.filter(pk=schedule.pk).update(start_at=start, next_fire_at=start)
    return start


def fires_of(schedule: Schedule, count: int, timeout: float = 20) -> list[ScheduleFire]:
    """Wait until the schedule has `count` fires; return them in nominal order."""
    wait_until(
        lambda: ScheduleFire.objects.filter(schedule=schedule).count() >= count,
        timeout=timeout,
        what=f"{count} fire(s) of schedule {schedule.name}",
    )
    return list(ScheduleFire.objects.filter(schedule=schedule).order_by("scheduled_for", "id"))


def timer_ticks() -> int:
    beat = ProcessHeartbeat.objects.filter(
        kind="timer", name=f"timers@{socket.gethostname()}"
    ).first()
    return int(beat.details.get("ticks", 0)) if beat else -1


def wait_for_ticks(count: int) -> None:
    """Let the timer loop sweep `count` more times (instead of sleeping for a guessed while)."""
    wait_until(lambda: timer_ticks() >= 0, timeout=10, what="the timer loop's heartbeat")
    start = timer_ticks()
    wait_until(lambda: timer_ticks() >= start + count, timeout=10, what=f"{count} timer ticks")


def waiting_order(policy: str) -> Schedule:
    """A schedule whose runs wait for an approval that never comes: they keep going."""
    return scheduled(
        "test-wait", input={"order_id": uuid.uuid4().int % 10**9, "timeout": 60}, overlap=policy
    )


def test_a_due_schedule_starts_its_workflow_on_a_worker() -> None:
    schedule = scheduled(input={"steps": 2})
    nominal = due_now(schedule)
    [fire] = fires_of(schedule, 1)
    assert (fire.outcome, fire.scheduled_for, fire.manual) == ("started", nominal, False)
    run = wait_for_status(fire.run, "completed")
    assert run.output == ["step-1", "step-2"]
    assert run.trigger == "schedule"
    schedule.refresh_from_db()
    assert schedule.next_fire_at == nominal + timedelta(hours=1)


@pytest.mark.parametrize(
    ("policy", "second_outcome"),
    [
        ("skip", "skipped"),
        ("buffer_one", "buffered"),
        ("allow_all", "started"),
        ("cancel_previous", "replaced"),
    ],
)
def test_each_overlap_policy_with_the_previous_run_still_waiting(
    policy: str, second_outcome: str
) -> None:
    schedule = waiting_order(policy)
    due_now(schedule)
    [first] = fires_of(schedule, 1)
    assert first.outcome == "started"
    wait_for_status(first.run, "waiting")

    due_now(schedule)
    second = fires_of(schedule, 2)[1]
    assert second.outcome == second_outcome
    previous = Run.objects.get(pk=first.run_id)
    if policy == "skip":
        assert second.run is None and previous.status == "waiting"
    elif policy == "allow_all":
        wait_for_status(second.run, "waiting")
        assert previous.status == "waiting"
    elif policy == "cancel_previous":
        # A run that did something undoes it first (cancelling), on a worker.
        wait_for_status(previous, "cancelled")
        wait_for_status(second.run, "waiting")
    else:
        assert second.run is None
        cancel_run(previous.pk)
        # The timer loop starts the buffered fire once the previous run has ended.
        wait_until(
            lambda: ScheduleFire.objects.get(pk=second.pk).run_id is not None,
            timeout=20,
            what="the buffered fire to start",
        )
        second.refresh_from_db()
        wait_for_status(second.run, "waiting")
    for run in Run.objects.filter(schedule_fires__schedule=schedule, status="waiting"):
        cancel_run(run.pk)


@pytest.mark.parametrize(
    ("policy", "outcomes"),
    [
        ("skip", ["missed", "missed", "missed", "missed"]),
        ("run_once", ["missed", "missed", "missed", "started"]),
        ("run_all", ["missed", "missed", "started", "started"]),
    ],
)
def test_each_catch_up_policy_after_three_and_a_half_hours_down(
    policy: str, outcomes: list[str]
) -> None:
    """Fires at -3:30, -2:30, -1:30 and -0:30 were all missed (the grace is a minute)."""
    schedule = scheduled(catch_up=policy, catch_up_limit=2, overlap="allow_all")
    start = timezone.now() - timedelta(hours=3, minutes=30)
    Schedule.objects.filter(pk=schedule.pk).update(start_at=start, next_fire_at=start)
    fires = fires_of(schedule, 4)
    assert [fire.outcome for fire in fires] == outcomes
    assert [fire.scheduled_for for fire in fires] == [start + timedelta(hours=n) for n in range(4)]
    for fire in fires:
        if fire.outcome == "started":
            wait_for_status(fire.run, "completed")
        else:
            assert fire.run is None
    schedule.refresh_from_db()
    assert schedule.next_fire_at == start + timedelta(hours=4)


def test_two_sweeping_threads_fire_each_due_schedule_once() -> None:
    """The threads sweep at a moment a day ahead, which the timer loop does not reach."""
    nominal = (timezone.now() + timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
    schedules = [scheduled() for _ in range(20)]
    Schedule.objects.filter(pk__in=[s.pk for s in schedules]).update(next_fire_at=nominal)
    # Schedules other tests' code declares (a daily 06:00 one) fall due within that day too,
    # whenever the timer loop has synced them in: kept out of this count.
    Schedule.objects.exclude(pk__in=[s.pk for s in schedules]).update(
        next_fire_at=nominal + timedelta(days=30)
    )
    barrier = threading.Barrier(2)
    fired: list[int] = []
    errors: list[BaseException] = []

    def sweep() -> None:
        try:
            barrier.wait(5)
            fired.append(fire_due_schedules(now=nominal + timedelta(seconds=5)))
        except BaseException as error:  # reported by the test thread below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert sum(fired) == 20
    for schedule in schedules:
        [fire] = ScheduleFire.objects.filter(schedule=schedule)
        assert (fire.scheduled_for, fire.outcome) == (nominal, "started")
    assert Run.objects.filter(schedule_fires__schedule__in=schedules).count() == 20


@pytest.fixture
def second_timer_loop(stepwise_env: dict[str, str], process_logs: Path) -> Iterator[RunningProcess]:
    loop = start_process(
        "timer-loop-2",
        ["manage.py", "timer_loop", "--interval", "0.05", "--name", "timers@second"],
        stepwise_env,
        process_logs,
    )
    wait_until(
        lambda: "running" in loop.log(), timeout=60, what="a second timer loop", process=loop
    )
    yield loop
    loop.stop()


def test_two_timer_loop_processes_fire_each_due_schedule_once(
    second_timer_loop: RunningProcess,
) -> None:
    schedules = [scheduled() for _ in range(20)]
    start = timezone.now() - timedelta(seconds=1)
    # One statement makes all twenty due at once, for both loops to race for.
    Schedule.objects.filter(pk__in=[s.pk for s in schedules]).update(
        start_at=start, next_fire_at=start
    )
    wait_until(
        lambda: ScheduleFire.objects.filter(schedule__in=schedules).count() >= 20,
        timeout=20,
        what="twenty fires",
    )
    wait_for_ticks(3)
    for schedule in schedules:
        [fire] = ScheduleFire.objects.filter(schedule=schedule)
        assert fire.outcome == "started"
    runs = Run.objects.filter(schedule_fires__schedule__in=schedules)
    assert runs.count() == 20
    for run in runs:
        wait_for_status(run, "completed")
    assert second_timer_loop.process.poll() is None


def test_pause_resume_and_run_now() -> None:
    schedule = scheduled(input={"steps": 1})
    pause(schedule)
    Schedule.objects.filter(pk=schedule.pk).update(next_fire_at=timezone.now())
    wait_for_ticks(3)
    assert not ScheduleFire.objects.filter(schedule=schedule).exists()

    resumed = resume(schedule)
    assert resumed.next_fire_at is not None and resumed.next_fire_at > timezone.now()
    wait_for_ticks(3)
    assert not ScheduleFire.objects.filter(schedule=schedule).exists()

    run = wait_for_status(run_now(schedule), "completed")
    assert run.output == ["step-1"]
    [fire] = ScheduleFire.objects.filter(schedule=schedule)
    assert (fire.manual, fire.outcome, fire.run_id) == (True, "started", run.pk)


SCHEDULED_GRAPH = graph(
    [
        (
            "tick",
            "trigger.schedule",
            {"cron": "0 9 * * 1-5", "timezone": "Europe/Berlin", "input": {"who": "the graph"}},
        ),
        ("done", "flow.end", {"output": {"greeting": "hello from {{ input.who }}"}}),
    ],
    ["tick>done"],
)


def test_a_published_schedule_trigger_starts_the_graph(client: Client, make_user: Any) -> None:
    # A designer who may also start runs: the published schedule is active at once.
    _, raw = ApiToken.issue(make_user("dana", "designers", "operators"), "ci")
    headers = {"Authorization": f"Bearer {raw}"}
    created = client.post(
        "/api/workflows",
        {"slug": "weekday-greeting", "title": "Weekday greeting", "graph": SCHEDULED_GRAPH},
        content_type="application/json",
        headers=headers,
    )
    assert created.status_code == 201, created.json()
    published = client.post(
        "/api/workflows/weekday-greeting/publish",
        {"note": "first"},
        content_type="application/json",
        headers=headers,
    )
    assert published.status_code == 201, published.json()

    schedule = Schedule.objects.get(source="graph", source_key="weekday-greeting:tick")
    assert (schedule.workflow, schedule.cron, schedule.timezone) == (
        "weekday-greeting",
        "0 9 * * 1-5",
        "Europe/Berlin",
    )
    assert schedule.next_fire_at is not None
    in_berlin = schedule.next_fire_at.astimezone(ZoneInfo("Europe/Berlin"))
    assert (in_berlin.hour, in_berlin.minute, in_berlin.isoweekday() <= 5) == (9, 0, True)
    Schedule.objects.filter(pk=schedule.pk).update(next_fire_at=timezone.now())
    [fire] = fires_of(schedule, 1)
    run = wait_for_status(fire.run, "completed")
    assert (run.kind, run.version) == ("graph", "v1")
    assert run.output == {"greeting": "hello from the graph"}
