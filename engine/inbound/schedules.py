"""Schedules in the database: firing each nominal time once (declared ones are kept in step by
engine.inbound.schedule_sync).

The timer loop calls `fire_due_schedules()` every tick. It claims due schedules one at a time with
SELECT ... FOR UPDATE SKIP LOCKED and, in that schedule's transaction, decides what each due
nominal time becomes (a run, a skip, a buffered fire or a missed one), records a ScheduleFire for
it and moves `next_fire_at` on. A second timer loop skips the locked row and, once the first
commits, no longer finds it due; the unique (schedule, scheduled_for) constraint on fires is the
last fence. Each fire therefore happens exactly once however many loops run.

`next_fire_at` is the moment the next fire happens: its nominal time plus the schedule's jitter.
The jitter is derived from the schedule and the nominal time, so every process agrees on it,
and it always ends before the following nominal time, so the nominal time can be found again.
"""

import logging
from collections.abc import Iterable
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from engine.core.cron import (
    CronError,
    jitter_offset,
    next_fire_times,
    parse_cron,
    previous_fire_times,
    zone_of,
)
from engine.core.errors import DefinitionError
from engine.core.schedules import (
    MAX_CATCH_UP_LIMIT,
    ScheduleSpec,
    describe,
    interval_problem,
    moment_problem,
)
from engine.models import (
    ACTIVE_STATUSES,
    CatchUpPolicy,
    FireOutcome,
    OverlapPolicy,
    Run,
    Schedule,
    ScheduleFire,
    Trigger,
)
from engine.runtime.inputs import InputProblem, first_input_problem
from engine.runtime.limits import was_refused
from engine.runtime.resolving import UnknownWorkflow, resolve
from engine.runtime.runs import RunStateError, cancel_run, create_run

__all__ = [
    "CronError",
    "catch_up_limit",
    "describe",
    "fire_due_schedules",
    "fire_moment",
    "next_fire_times",
    "nominal_time",
    "parse_cron",
    "pause",
    "refresh_next_fire",
    "resume",
    "run_now",
    "save_schedule",
    "schedule_problems",
    "start_buffered_fires",
    "upcoming",
]

logger = logging.getLogger(__name__)

BATCH = 200
# Missed fires beyond those the catch-up policy runs are recorded as missed, up to this many.
MISSED_RECORDED = 100
TIMING_FIELDS = frozenset(
    {"cron", "interval_seconds", "timezone", "start_at", "end_at", "jitter_seconds", "paused"}
)


# --- fire times ------------------------------------------------------------------------------


def upcoming(schedule: Schedule, count: int = 5, after: datetime | None = None) -> list[datetime]:
    """The next fire times of a schedule in its time zone, jitter included, for people to read."""
    nominals = next_fire_times(schedule, after or timezone.now(), count)
    zone = zone_of(schedule.timezone)
    return [fire_moment(schedule, nominal).astimezone(zone) for nominal in nominals]


def fire_moment(schedule: Schedule, nominal: datetime) -> datetime:
    """When the fire for a nominal time happens: later by the jitter, never past the next one."""
    if not schedule.jitter_seconds:
        return nominal
    moment = nominal + jitter_offset(str(schedule.pk), nominal, schedule.jitter_seconds)
    following = next_fire_times(schedule, nominal, 1)
    if following and moment >= following[0]:
        moment = following[0] - timedelta(microseconds=1)
    return moment


def nominal_time(schedule: Schedule, moment: datetime) -> datetime:
    """The nominal time whose fire happens at `moment` (the latest one at or before it)."""
    if not schedule.jitter_seconds:
        return moment
    latest = previous_fire_times(schedule, moment, 1)
    if latest and latest[0] >= moment - timedelta(seconds=schedule.jitter_seconds):
        return latest[0]
    return moment


def refresh_next_fire(schedule: Schedule, now: datetime | None = None) -> None:
    """Set next_fire_at to the first fire after now (None when paused or past its end)."""
    if schedule.paused:
        schedule.next_fire_at = None
        return
    following = next_fire_times(schedule, now or timezone.now(), 1)
    schedule.next_fire_at = fire_moment(schedule, following[0]) if following else None


def schedule_problems(
    *,
    cron: str,
    interval_seconds: int | None,
    timezone_name: str,
    start_at: datetime | None = None,
    end_at: datetime | None = None,
    jitter_seconds: int = 0,
) -> dict[str, str]:
    """What is wrong with a schedule's timing, by field name; empty when it can be saved."""
    problems: dict[str, str] = {}
    if bool(cron) == bool(interval_seconds):
        message = "give a cron expression or an interval" + (", not both" if cron else "")
        problems["cron"] = message
    elif cron:
        try:
            parse_cron(cron)
        except CronError as error:
            problems["cron"] = str(error)
    elif interval_seconds and (problem := interval_problem(interval_seconds)) is not None:
        problems["interval_seconds"] = problem
    for name, moment in (("start_at", start_at), ("end_at", end_at)):
        if moment is not None and (problem := moment_problem(moment)) is not None:
            problems[name] = problem
    try:
        zone_of(timezone_name)
    except DefinitionError as error:
        problems["timezone"] = str(error)
    if start_at and end_at and end_at <= start_at:
        problems["end_at"] = "the end comes after the start"
    if jitter_seconds and not problems:
        spec = ScheduleSpec(
            cron=cron, interval_seconds=interval_seconds, timezone=timezone_name, start_at=start_at
        )
        gap = _shortest_gap(spec)
        if gap is not None and jitter_seconds >= gap:
            problems["jitter_seconds"] = (
                f"the jitter must be shorter than the time between two fires ({gap} s)"
            )
    return problems


def schedule_input_problem(workflow: str, value: Any) -> InputProblem | None:
    """`input.amount: ...` when the input does not match the workflow's input schema, else None.

    Checked when a schedule is saved: a mismatch found at fire time would fail every run.
    """
    try:
        schema = resolve(workflow).definition.input_schema
    except UnknownWorkflow:
        return None  # the workflow field reports it
    if schema is None:
        return None
    return first_input_problem(schema, {} if value is None else value)


def _shortest_gap(spec: ScheduleSpec) -> int | None:
    if spec.interval_seconds:
        return spec.interval_seconds
    times = next_fire_times(spec, spec.start_at or timezone.now(), 50)
    gaps = [int((later - earlier).total_seconds()) for earlier, later in pairwise(times)]
    return min(gaps) if gaps else None


# --- firing ----------------------------------------------------------------------------------


def fire_due_schedules(now: datetime | None = None) -> int:
    """The timer loop's sweeper: fire every due, unpaused schedule; returns the fires recorded."""
    fired = start_buffered_fires(now)
    failed: list[int] = []
    for _ in range(BATCH):
        moment = now or timezone.now()
        with transaction.atomic():
            schedule = (
                Schedule.objects.select_for_update(skip_locked=True)
                .filter(paused=False, next_fire_at__lte=moment)
                .exclude(pk__in=failed)
                .order_by("next_fire_at")
                .first()
            )
            if schedule is None:
                break
            try:
                with transaction.atomic():
                    fired += _fire(schedule, moment)
            except Exception:
                # Left due, so the next tick tries again; this tick goes on with the others.
                logger.exception("schedule %s (%s) could not fire", schedule.pk, schedule.name)
                failed.append(schedule.pk)
    return fired


def _fire(schedule: Schedule, now: datetime) -> int:
    try:
        resolve(schedule.workflow)
    except UnknownWorkflow:
        logger.error(
            "schedule %s (%s) paused: no workflow called %r",
            schedule.pk,
            schedule.name,
            schedule.workflow,
        )
        schedule.paused, schedule.next_fire_at = True, None
        schedule.save(update_fields=["paused", "next_fire_at"])
        return 0
    assert schedule.next_fire_at is not None
    first = nominal_time(schedule, schedule.next_fire_at)
    limit = catch_up_limit(schedule)
    keep = limit + MISSED_RECORDED
    later = sorted(n for n in previous_fire_times(schedule, now, keep) if n > first)
    due = later if len(later) >= keep else [first, *later]
    # With jitter the newest nominal time may be past while its fire is still to come.
    if len(due) > 1 and fire_moment(schedule, due[-1]) > now:
        due.pop()
    if len(later) >= keep:
        logger.warning(
            "schedule %s (%s) missed more than %d fires; the oldest are not recorded",
            schedule.pk,
            schedule.name,
            keep,
        )

    grace = timedelta(seconds=settings.STEPWISE_SCHEDULE_GRACE_SECONDS)
    # Only the newest due fire can be on time; any before it came due while no sweeper ran.
    on_time = due[-1] if fire_moment(schedule, due[-1]) >= now - grace else None
    missed = due[:-1] if on_time is not None else due
    to_run: list[datetime]
    if schedule.catch_up == CatchUpPolicy.RUN_ONCE and missed:
        to_run = due[-1:]
    elif schedule.catch_up == CatchUpPolicy.RUN_ALL:
        to_run = (missed[-limit:] if limit else []) + ([on_time] if on_time else [])
    else:
        to_run = [on_time] if on_time else []
    for nominal in due:
        if nominal in to_run:
            _attempt(schedule, nominal, now)
        else:
            _record(schedule, nominal, now, FireOutcome.MISSED)

    following = next_fire_times(schedule, due[-1], 1)
    schedule.next_fire_at = fire_moment(schedule, following[0]) if following else None
    schedule.last_fired_at = now
    schedule.save(update_fields=["next_fire_at", "last_fired_at", "buffered_for"])
    return len(due)


def catch_up_limit(schedule: Schedule) -> int:
    """The schedule's catch-up limit, held to 0..MAX_CATCH_UP_LIMIT whatever the row says.

    Forms and declarations refuse more, but a row saved before they did (or written in SQL)
    may hold any number, and each fire computes that many fire times: unbounded, one fire
    would take the timer loop hours and gigabytes.
    """
    return max(0, min(schedule.catch_up_limit, MAX_CATCH_UP_LIMIT))


def _active_runs(schedule: Schedule | OuterRef) -> QuerySet[Run]:
    """The runs this schedule started that have not ended."""
    return Run.objects.filter(schedule_fires__schedule=schedule, status__in=ACTIVE_STATUSES)


def _attempt(schedule: Schedule, nominal: datetime, now: datetime) -> None:
    """One fire through the overlap policy: start a run, or skip, buffer or replace."""
    if schedule.buffered_for is not None and not _active_runs(schedule).exists():
        _release_buffer(schedule)
    active = list(_active_runs(schedule).values_list("pk", flat=True).distinct())
    if not active or schedule.overlap == OverlapPolicy.ALLOW_ALL:
        _record(schedule, nominal, now, FireOutcome.STARTED, _start(schedule, nominal))
    elif schedule.overlap == OverlapPolicy.BUFFER_ONE and schedule.buffered_for is None:
        schedule.buffered_for = nominal
        _record(schedule, nominal, now, FireOutcome.BUFFERED)
    elif schedule.overlap == OverlapPolicy.CANCEL_PREVIOUS:
        for run_id in active:
            # A run may have ended meanwhile; then there is nothing to cancel.
            with suppress(RunStateError):
                cancel_run(run_id, reason=f"replaced by the next fire of schedule {schedule.name}")
        _record(schedule, nominal, now, FireOutcome.REPLACED, _start(schedule, nominal))
    else:
        # Skip, or buffer_one with a fire already held back: one buffered fire is the limit.
        _record(schedule, nominal, now, FireOutcome.SKIPPED)


def _record(
    schedule: Schedule,
    nominal: datetime,
    now: datetime,
    outcome: str,
    run: Run | None = None,
    *,
    manual: bool = False,
) -> ScheduleFire:
    if run is not None and was_refused(run):
        outcome = FireOutcome.REFUSED
    return ScheduleFire.objects.create(
        schedule=schedule,
        scheduled_for=nominal,
        fired_at=now,
        outcome=outcome,
        run=run,
        manual=manual,
    )


def _start(
    schedule: Schedule, nominal: datetime, *, manual: bool = False, user: User | None = None
) -> Run:
    local = nominal.astimezone(zone_of(schedule.timezone))
    reference = f"schedule {schedule.pk}: {schedule.name}"
    reference += " (run now)" if manual else f" at {local:%Y-%m-%d %H:%M %Z}"
    # The key makes a second attempt at the same nominal time find the first run.
    key = None if manual else f"schedule-{schedule.pk}-{nominal.astimezone(UTC):%Y%m%dT%H%M%S%f}"
    return create_run(
        schedule.workflow,
        {} if schedule.input is None else schedule.input,
        trigger=Trigger.SCHEDULE,
        trigger_ref=reference[:200],
        idempotency_key=key,
        created_by=user,
        priority=schedule.priority,
    )


def _release_buffer(schedule: Schedule) -> Run:
    """Start the fire held back by overlap=buffer_one; its record gets the run."""
    nominal = schedule.buffered_for
    assert nominal is not None
    run = _start(schedule, nominal)
    ScheduleFire.objects.filter(schedule=schedule, scheduled_for=nominal, manual=False).update(
        run=run
    )
    schedule.buffered_for = None
    return run


def start_buffered_fires(now: datetime | None = None) -> int:
    """Start each buffered fire whose schedule has no run going any more."""
    started = 0
    with transaction.atomic():
        still_going = _active_runs(OuterRef("pk"))
        waiting = list(
            Schedule.objects.select_for_update(skip_locked=True)
            .filter(paused=False, buffered_for__isnull=False)
            .exclude(Exists(still_going))
            .order_by("buffered_for")[:BATCH]
        )
        for schedule in waiting:
            try:
                with transaction.atomic():
                    _release_buffer(schedule)
                    schedule.save(update_fields=["buffered_for"])
                    started += 1
            except Exception:
                logger.exception("schedule %s: the buffered fire could not start", schedule.pk)
    return started


# --- operator actions ------------------------------------------------------------------------


def run_now(schedule: Schedule, user: User | None = None) -> Run:
    """Start the schedule's workflow at once ('run now'): recorded as a manual fire.

    A person asked for it, so neither pause nor the overlap policy holds it back.
    """
    with transaction.atomic():
        locked = Schedule.objects.select_for_update().get(pk=schedule.pk)
        now = timezone.now()
        run = _start(locked, now, manual=True, user=user)
        _record(locked, now, now, FireOutcome.STARTED, run, manual=True)
        Schedule.objects.filter(pk=locked.pk).update(last_fired_at=now)
    schedule.last_fired_at = now
    return run


def pause(schedule: Schedule) -> Schedule:
    """Stop firing until resumed; a fire held back by buffer_one stays held."""
    with transaction.atomic():
        locked = Schedule.objects.select_for_update().get(pk=schedule.pk)
        locked.paused, locked.next_fire_at = True, None
        locked.updated_at = timezone.now()
        locked.save(update_fields=["paused", "next_fire_at", "updated_at"])
    return locked


def resume(schedule: Schedule) -> Schedule:
    """Fire again from now on; what fell due while paused is not caught up."""
    with transaction.atomic():
        locked = Schedule.objects.select_for_update().get(pk=schedule.pk)
        locked.paused = False
        locked.updated_at = timezone.now()
        refresh_next_fire(locked, locked.updated_at)
        locked.save(update_fields=["paused", "next_fire_at", "updated_at"])
    return locked


def save_schedule(schedule: Schedule, changed: Iterable[str] | None = None) -> Schedule:
    """Save a new or edited schedule; a new timing starts from now, without catching up."""
    now = timezone.now()
    adding = schedule._state.adding
    schedule.updated_at = now
    if adding:
        schedule.created_at = now
    retime = adding or changed is None or bool(TIMING_FIELDS & set(changed))
    with transaction.atomic():
        if adding and schedule.jitter_seconds:
            # The jitter is derived from the primary key, which the first save assigns.
            schedule.next_fire_at = None
            schedule.save()
            adding = False
        if retime:
            refresh_next_fire(schedule, now)
        schedule.save(force_insert=adding)
    return schedule
