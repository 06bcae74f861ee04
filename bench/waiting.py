"""Waiting costs nothing: many parked runs, an event's resume latency and a burst of timers.

On real services (PostgreSQL, Redis, a prefork `celery worker` with two processes and a
`manage.py timer_loop` at its default interval; bench/engine.py's database and queue):
1. parks N runs (a third each sleeping, waiting for an event, waiting for an approval) and
   prints the worker's memory (RSS of the worker and its children) before and after, and
   what the worker holds while they wait (tasks active, messages queued), then runs VACUUM
   ANALYZE as autovacuum would after so many writes;
2. delivers events one at a time to runs waiting for them and times from the emit to the
   start of the run's next step, against a fresh run's start_run to its first step (the
   baseline, taken in turn);
3. makes T of the sleeping runs' timers due at one moment and prints how late each fired
   (the sleep's end, written by the timer loop), against one timer alone.
Prints figures and ratios, never fails a build.

    .venv/bin/python bench/waiting.py [--runs 100000] [--timers 10000] [--events 50] [--quick]
"""

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.engine import (
    BenchError,
    Progress,
    bench_environment,
    celery_worker,
    note,
    percentile,
    poll,
    run_in_this_process,
)
from tests.processes import RunningProcess, start_process, wait_until

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/stepwise_bench_waiting"
CREATE_BATCH = 1000
PARK_TIMEOUT = 3600.0
FAR_AWAY = timedelta(days=1)
TIMER_LEAD = 5.0
LONE_TIMERS = 3
AIM_EVENT_P50, AIM_EVENT_P95, AIM_TIMER_LAG = 0.020, 0.050, 1.0


# --- the worker's footprint -----------------------------------------------------------------
def rss_kib(pid: int) -> int:
    """Resident memory of a process and all its descendants, in KiB."""
    total = 0
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except (FileNotFoundError, ProcessLookupError):
        return 0
    return total + sum(rss_kib(int(child)) for child in children)


def held_by_worker(app: Any) -> tuple[int, int | None]:
    """Tasks the worker is running and messages waiting in its queue."""
    from engine.messaging.dispatch import queued_messages

    active = app.control.inspect(timeout=2).active() or {}
    return sum(len(tasks) for tasks in active.values()), queued_messages()


# --- parking runs ---------------------------------------------------------------------------
def park(count: int, timers: int, tag: str) -> dict[str, list[int]]:
    """Start `count` runs split over the three waits (at least `timers` sleeping); wait until
    every one of them waits."""
    from django.contrib.auth.models import User
    from django.db import transaction
    from django.utils import timezone

    from engine.models import Run, RunStatus
    from engine.runtime.runs import create_run

    # The approvals' approver: a task must go to an active user.
    User.objects.get_or_create(username="bench-approver")
    until = (timezone.now() + FAR_AWAY).isoformat()
    sleepers = max(count // 3, timers + LONE_TIMERS)
    others = max(0, count - sleepers)
    plan = [("bench-sleep", sleepers), ("bench-wait", others // 2)]
    plan.append(("bench-approval", others - others // 2))
    parked: dict[str, list[int]] = {}
    for workflow, number in plan:
        ids: list[int] = []
        for start in range(0, number, CREATE_BATCH):
            with transaction.atomic():
                for index in range(start, min(number, start + CREATE_BATCH)):
                    run_input = {"until": until, "key": f"{tag}{index}"}
                    ids.append(create_run(workflow, run_input).pk)
        parked[workflow] = ids
    everyone = [run_id for ids in parked.values() for run_id in ids]
    progress = Progress(len(everyone), "runs waiting")
    mine = Run.objects.filter(pk__gte=min(everyone), pk__lte=max(everyone))
    waiting = mine.filter(status=RunStatus.WAITING)

    def all_waiting() -> bool:
        failed = mine.filter(status=RunStatus.FAILED)
        if failed.exists():
            raise BenchError(f"a parked run failed: {failed.values_list('error', flat=True)[0]}")
        done = waiting.count()
        progress.show(done)
        return done >= len(everyone)

    poll(all_waiting, 0.5, PARK_TIMEOUT, f"{len(everyone)} runs to wait")
    return parked


def vacuum_analyze() -> tuple[str, float]:
    """VACUUM ANALYZE everything, as autovacuum soon would after parking so many runs: without
    it (a server may run with autovacuum off) the planner knows nothing of the tables' new
    sizes and every wake walks the dead rows parking left. Returns the server's autovacuum
    setting and the seconds it took."""
    from django.db import connection

    began = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SHOW autovacuum")
        setting = str(cursor.fetchone()[0])
        cursor.execute("VACUUM ANALYZE")
    return setting, time.perf_counter() - began


# --- resuming on an event -------------------------------------------------------------------
def next_step_latency(run_id: int, step: str, began: datetime) -> float:
    from engine.models import StepRecord

    rows = StepRecord.objects.filter(run_id=run_id, name=step).values_list("started_at", flat=True)
    poll(lambda: rows.exists(), 0.001, 30, f"step {step} of run {run_id}")
    started = rows.first()
    assert started is not None
    return (started - began).total_seconds()


def event_latency(run_id: int, key: str) -> float:
    """Seconds from delivering the event to the start of the step after the wait."""
    from django.utils import timezone

    from engine.inbound.events import deliver_event

    began = timezone.now()
    delivery = deliver_event("Bench.go", {"key": key})
    if delivery.woken_runs != [run_id]:
        raise BenchError(f"event {key} woke {delivery.woken_runs}, not run {run_id}")
    return next_step_latency(run_id, "after-wait", began)


def start_latency() -> float:
    """Seconds from start_run to the start of a fresh run's first step (the baseline)."""
    from django.utils import timezone

    from engine.runtime.runs import start_run

    began = timezone.now()
    run = start_run("bench-steps", {"steps": 1})
    return next_step_latency(run.pk, "noop", began)


def sample_events(waiting: list[int], count: int, tag: str) -> tuple[list[float], list[float]]:
    events, starts = [], []
    progress = Progress(count, "events and fresh runs")
    for index, run_id in enumerate(waiting[:count]):
        events.append(event_latency(run_id, f"{tag}{index}"))
        starts.append(start_latency())
        progress.show(index + 1)
        time.sleep(0.05)  # one at a time: the latency of a quiet system, not a queue's
    return events, starts


# --- a burst of timers ----------------------------------------------------------------------
def timer_lags(run_ids: list[int]) -> tuple[list[float], float]:
    """Make these runs' sleeps due together; how late each fired, and when all were queued."""
    from django.utils import timezone

    from engine.models import Run, RunStatus, StepRecord, Timer

    due_at = timezone.now() + timedelta(seconds=TIMER_LEAD)
    Timer.objects.filter(run_id__in=run_ids).update(due_at=due_at)
    if timezone.now() > due_at:
        # On a loaded database the UPDATE itself can outlast the lead: such a lag is not the
        # timer loop's.
        note(f"the {len(run_ids)} timers were written after their due time; lags include it")
    # Polled through the due time's index: counting the sleeps of 10,000 runs every 10 ms
    # would load the database the timer loop is writing to. A timer goes in the transaction
    # that ends its sleep.
    pending = Timer.objects.filter(due_at=due_at)
    poll(lambda: not pending.exists(), 0.01, 120, f"{len(run_ids)} timers")
    all_fired = (timezone.now() - due_at).total_seconds()
    ended = StepRecord.objects.filter(run_id__in=run_ids, kind="sleep", status="completed")
    poll(lambda: ended.count() >= len(run_ids), 0.1, 30, f"{len(run_ids)} sleeps to end")
    lags = [(at - due_at).total_seconds() for at in ended.values_list("finished_at", flat=True)]
    poll(
        lambda: not Run.objects.filter(pk__in=run_ids, status=RunStatus.WAITING).exists(),
        0.01,
        120,
        "the woken runs to leave waiting",
    )
    return lags, all_fired


# --- the run --------------------------------------------------------------------------------
def measure(counts: argparse.Namespace, app: Any, env: dict[str, str], log_dir: Path) -> None:
    with celery_worker(app, env, log_dir, concurrency=2) as worker:
        loop = start_process("timer-loop", ["manage.py", "timer_loop"], env, log_dir)
        try:
            wait_until(lambda: "running" in loop.log(), 60, "the timer loop", loop)
            run_measurements(counts, app, worker)
        finally:
            loop.stop()


def run_measurements(counts: argparse.Namespace, app: Any, worker: RunningProcess) -> None:
    # Warm up: both worker processes import and connect, each wait kind runs once.
    warm = park(6, 0, "warm")
    sample_events(warm["bench-wait"], 1, "warm")
    timer_lags(warm["bench-sleep"][:1])
    rss_before = rss_kib(worker.process.pid)

    began = time.perf_counter()
    parked = park(counts.runs, counts.timers, "k")
    park_seconds = time.perf_counter() - began
    # The last advances commit "waiting" a moment before their task returns.
    time.sleep(2)
    rss_after = rss_kib(worker.process.pid)
    active, queued = held_by_worker(app)
    parked_total = sum(len(ids) for ids in parked.values())
    autovacuum, vacuum_seconds = vacuum_analyze()

    events, starts = sample_events(parked["bench-wait"], counts.events, "k")
    lone_lags = [timer_lags([run_id])[0][0] for run_id in parked["bench-sleep"][-LONE_TIMERS:]]
    lags, all_fired = timer_lags(parked["bench-sleep"][: counts.timers])

    ms = 1000
    print(f"waiting runs: {parked_total:,} parked in {park_seconds:.1f} s", end=" ")
    print(", ".join(f"{workflow} {len(ids):,}" for workflow, ids in parked.items()))
    print(
        f"  worker RSS (worker + 2 processes): before {rss_before / 1024:.1f} MiB, after "
        f"{rss_after / 1024:.1f} MiB ({rss_after / rss_before:.2f}x); while they wait: "
        f"{active} tasks active, {queued} messages queued"
    )
    print(
        f"  then VACUUM ANALYZE of the database in {vacuum_seconds:.1f} s, as autovacuum would "
        f"do after so many writes (autovacuum on this server: {autovacuum})"
    )
    row = "  {:<44} p50 {:6.1f} ms   p95 {:6.1f} ms   max {:6.1f} ms"
    print(f"resume on an event, {len(events)} one at a time (emit → the next step's start)")
    for name, samples in (
        ("event wakes a waiting run", events),
        ("start_run → first step (baseline)", starts),
    ):
        print(row.format(name, *(percentile(samples, f) * ms for f in (0.5, 0.95, 1.0))))
    ratio = statistics.median(events) / statistics.median(starts)
    print(f"  {'event / baseline (p50)':<44} {ratio:.2f}x")
    print(f"timers due at one moment: {len(lags):,} (due → the sleep ended by the timer loop)")
    print(
        row.format(f"{len(lags):,} at once", *(percentile(lags, f) * ms for f in (0.5, 0.95, 1.0)))
    )
    print(
        row.format(
            "one alone (baseline)", *(percentile(lone_lags, f) * ms for f in (0.5, 0.95, 1.0))
        )
    )
    print(f"  all {len(lags):,} ended {all_fired * ms:.0f} ms after due (polled every 10 ms)")
    print("aims")
    aims: list[tuple[str, Callable[[], bool], str]] = [
        (
            "event p50 ≤ 20 ms and p95 ≤ 50 ms",
            lambda: (
                percentile(events, 0.5) <= AIM_EVENT_P50
                and percentile(events, 0.95) <= AIM_EVENT_P95
            ),
            f"{percentile(events, 0.5) * ms:.1f} / {percentile(events, 0.95) * ms:.1f} ms",
        ),
        (
            f"{len(lags):,} timers all fired within 1 s",
            lambda: max(lags) <= AIM_TIMER_LAG,
            f"last {max(lags) * ms:.0f} ms late",
        ),
        (
            "parked runs hold no worker",
            lambda: active == 0 and queued in (0, None),
            f"{active} active",
        ),
    ]
    for name, met, figure in aims:
        print(f"  {name:<44} {'met' if met() else 'NOT met'} ({figure})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, help="runs parked (default 100,000)")
    parser.add_argument("--timers", type=int, help="timers due at once (default 10,000)")
    parser.add_argument("--events", type=int, help="event samples (default 50)")
    parser.add_argument("--quick", action="store_true", help="3,000 runs, 1,000 timers, 20 events")
    args = parser.parse_args()
    args.runs = args.runs or (3000 if args.quick else 100_000)
    args.timers = args.timers or (1000 if args.quick else 10_000)
    args.events = min(args.events or (20 if args.quick else 50), (args.runs - args.timers) // 2)
    env = bench_environment()
    env["DATABASE_URL"] = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    print(f"bench/waiting.py: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    run_in_this_process("waiting.py", env, lambda app, logs: measure(args, app, env, logs))


if __name__ == "__main__":
    main()
