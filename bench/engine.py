"""Durable workflows against raw Celery chains: latency and steps per second on real services.

Runs real `celery worker` processes on PostgreSQL and Redis (DATABASE_URL, REDIS_URL; by default
the local servers and a `stepwise_bench` database, created and migrated when missing) on a
queue of their own. Times a 10-step no-op workflow from start_run to completed, and a Celery
chain of 10 no-op tasks until its last task has written a row: one at a time on one worker
process for latency, then many at once on two worker processes for throughput. The chain is
the baseline measured in the same run; prints figures and ratios, never fails a build.
Then splits a run's time (advanced in this process, no worker) into its statements and the
engine's Python, against the commit floor and one link of the chain: the least a durable run
sent through Celery could take. Last, the commit floor on four connections at once: the most
steps a second that one commit a step could reach.

    .venv/bin/python bench/engine.py [--runs 30] [--burst 200] [--quick] [--async-step-commits]

--async-step-commits runs the workers with STEPWISE_ASYNC_STEP_COMMITS=true (a step's own commit
does not wait for the journal flush; see README's configuration).
"""

import argparse
import functools
import hashlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

# Run as a script, this file's folder comes first on sys.path and this file would shadow the
# engine package: the project root must come before it.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.cpu import CpuSplit, Process, Role, cpu_split
from tests.processes import (
    PROJECT_ROOT,
    RunningProcess,
    database_url_for,
    process_environment,
    start_process,
    wait_until,
)

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/stepwise_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
# Another bench (or a colleague's) on the same Redis gets its own queue: each purges its queue.
QUEUE = os.environ.get("STEPWISE_BENCH_QUEUE") or "stepwise-bench"
WORKFLOW = "bench-steps"
TIMED_WORKFLOW = "bench-steps-in-time"
STEPS = 10
LATENCY_POLL = 0.002
BURST_POLL = 0.02
SAMPLE_TIMEOUT = 60.0
BURST_TIMEOUT = 300.0
BURST_ROUNDS = 2
AIM_LATENCY_RATIO = 0.5
AIM_STEPS_PER_SECOND = 2500.0  # issue 16: with two worker processes on 2 cores


class BenchError(RuntimeError):
    """The benchmark could not measure: a service, worker or run misbehaved."""


@dataclass(frozen=True)
class Counts:
    runs: int
    warmup: int
    burst: int


# --- set-up ---------------------------------------------------------------------------------
def bench_environment(async_step_commits: bool = False) -> dict[str, str]:
    """The environment of this process and its workers: its own database, queue and prefix."""
    return process_environment(
        STEPWISE_ASYNC_STEP_COMMITS="true" if async_step_commits else "false",
        DATABASE_URL=os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL,
        REDIS_URL=os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL,
        STEPWISE_QUEUE=QUEUE,
        STEPWISE_CHANNEL_PREFIX=QUEUE,
        STEPWISE_WORKFLOW_MODULES="bench.flows",
        # Bursts start hundreds of runs of one workflow a minute: what is measured, not runaway.
        STEPWISE_MAX_RUNS_PER_MINUTE="0",
        DEBUG="false",
        LOG_LEVEL="WARNING",
    )


def prepare_database(env: dict[str, str]) -> None:
    """Create the bench database if it is missing, or again if its migrations changed; migrate."""
    import psycopg
    from psycopg import sql

    url = env["DATABASE_URL"]
    name = urlsplit(url).path.lstrip("/")
    fingerprint = migrations_fingerprint()
    try:
        with psycopg.connect(database_url_for(url, "postgres"), autocommit=True) as admin:
            exists = admin.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", [name]
            ).fetchone()
            kept = None if exists is None else bench_fingerprint(url)
            made_by_bench = kept is not None
            if made_by_bench and kept != fingerprint:
                # A migration edited in place would never be applied again: start afresh.
                note(f"dropping database {name}: the migrations changed since it was created")
                admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
                exists = None
            if exists is None:
                admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
                note(f"created database {name}")
                made_by_bench = True
    except psycopg.OperationalError as exc:
        raise BenchError(f"PostgreSQL is not reachable at {url}: {exc}") from None
    # System checks guard the project's configuration (the admin, URLs), not what is measured
    # here; the test suite runs them.
    migrated = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "--skip-checks", "-v", "0"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if migrated.returncode != 0:
        raise BenchError(f"manage.py migrate failed:\n{migrated.stdout}{migrated.stderr}")
    if made_by_bench:
        with psycopg.connect(url, autocommit=True) as database:
            database.execute("CREATE TABLE IF NOT EXISTS bench_schema (fingerprint TEXT NOT NULL)")
            database.execute("DELETE FROM bench_schema")
            database.execute("INSERT INTO bench_schema VALUES (%s)", [fingerprint])


def migrations_fingerprint() -> str:
    """A digest of the project's migration files, to notice one edited in place."""
    digest = hashlib.sha256()
    for folder in sorted(PROJECT_ROOT.iterdir()):
        if folder.is_dir() and not folder.name.startswith(".") and folder.name != "node_modules":
            for path in sorted(folder.rglob("migrations/*.py")):
                digest.update(str(path.relative_to(PROJECT_ROOT)).encode() + path.read_bytes())
    return digest.hexdigest()


def bench_fingerprint(url: str) -> str | None:
    """The fingerprint a database created by this bench keeps; None for any other database."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as database:
        if database.execute("SELECT to_regclass('bench_schema')").fetchone() == (None,):
            return None
        row = database.execute("SELECT fingerprint FROM bench_schema").fetchone()
        return "" if row is None else str(row[0])


def clean_up(app: Any) -> None:
    """Drop what earlier bench runs left: runs, chain markers, heartbeats, queued messages."""
    from django.db import connection
    from kombu.exceptions import OperationalError

    from bench.flows import CHAIN_DONE_TABLE
    from engine.models import ProcessHeartbeat, Run

    Run.objects.filter(workflow__startswith="bench-").delete()
    ProcessHeartbeat.objects.filter(name__startswith="bench-").delete()
    with connection.cursor() as cursor:
        cursor.execute(CHAIN_DONE_TABLE)
        cursor.execute("TRUNCATE bench_chain_done")
    try:
        with app.connection_for_write() as broker:
            broker.default_channel.queue_purge(QUEUE)
    except OperationalError as exc:
        raise BenchError(f"Redis is not reachable at {app.conf.broker_url}: {exc}") from None


@contextmanager
def celery_worker(
    app: Any, env: dict[str, str], log_dir: Path, concurrency: int
) -> Iterator[RunningProcess]:
    """One prefork `celery worker` on the bench queue; stopped (TERM, then KILL) on leaving."""
    hostname = f"bench-{uuid.uuid4().hex[:8]}@localhost"
    worker = start_process(
        hostname.split("@")[0],
        [
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool=prefork",
            f"--concurrency={concurrency}",
            "-Q",
            QUEUE,
            "--hostname",
            hostname,
            "--without-mingle",
            "--without-gossip",
            "--loglevel=WARNING",
        ],
        env,
        log_dir,
    )
    try:
        wait_until(
            lambda: bool(app.control.ping(destination=[hostname], timeout=0.5)),
            timeout=60,
            what="the Celery worker to answer a ping",
            process=worker,
        )
        registered = app.control.inspect(destination=[hostname], timeout=2).registered() or {}
        missing = {"bench.noop", "engine.advance_run"} - set(registered.get(hostname, []))
        if missing:
            raise BenchError(f"the worker does not know the tasks {sorted(missing)}")
        yield worker
    except Exception as exc:
        # wait_until's message already ends with the worker's log.
        log = (
            "" if isinstance(exc, AssertionError) else f"\n{worker.name} log:\n{worker.log_tail()}"
        )
        raise BenchError(f"{exc}{log}") from exc
    finally:
        worker.stop(timeout=10)


# --- measuring ------------------------------------------------------------------------------
def run_in_this_process(
    name: str, env: dict[str, str], measure: Callable[[Any, Path], None]
) -> None:
    """Prepare the bench database, set Django up here and call `measure(celery_app, log_dir)`
    between two clean-ups of the bench queue; a BenchError ends the bench saying why."""
    began = time.perf_counter()
    try:
        note(f"preparing {env['DATABASE_URL']} ...")
        prepare_database(env)
        os.environ.update(env)
        import django

        django.setup()
        from config.celery import app

        clean_up(app)
        with tempfile.TemporaryDirectory(prefix="stepwise-bench-") as log_dir:
            measure(app, Path(log_dir))
        clean_up(app)
    except BenchError as exc:
        note(f"\nbench/{name} could not measure: {exc}")
        raise SystemExit(1) from None
    print(f"took {time.perf_counter() - began:.0f} s")


def note(message: str) -> None:
    print(message, file=sys.stderr)


class Progress:
    """A counter rewritten in place on stderr, only when it moves."""

    def __init__(self, total: int, what: str) -> None:
        self.total, self.what, self.shown = total, what, -1

    def show(self, done: int) -> None:
        if done != self.shown:
            self.shown = done
            end = "\n" if done >= self.total else ""
            print(f"\r  {done}/{self.total} {self.what}", end=end, file=sys.stderr, flush=True)


def poll(condition: Callable[[], bool], interval: float, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise BenchError(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(interval)


def check_completed(run_ids: list[int]) -> None:
    from engine.models import Run, RunStatus

    failed = list(
        Run.objects.filter(pk__in=run_ids)
        .exclude(status=RunStatus.COMPLETED)
        .values("pk", "status", "error")[:3]
    )
    if failed:
        raise BenchError(f"bench runs did not complete: {failed}")


def workflow_latency() -> float:
    """Seconds from start_run to the run's row saying it ended."""
    from engine.models import TERMINAL_STATUSES
    from engine.runtime.runs import start_run

    began = time.perf_counter()
    run = start_run(WORKFLOW, {"steps": STEPS})
    poll(
        lambda: run_status(run.pk) in TERMINAL_STATUSES,
        LATENCY_POLL,
        SAMPLE_TIMEOUT,
        f"run {run.pk}",
    )
    elapsed = time.perf_counter() - began
    check_completed([run.pk])
    return elapsed


def run_status(run_id: int) -> str | None:
    """The run's status, read as chains_done reads a chain's row: one plain statement (the
    ORM compiling a query at each look took CPU the worker needed, on the same two cores)."""
    from django.db import connection

    from engine.models import Run

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT status FROM {Run._meta.db_table} WHERE id = %s", [run_id])  # noqa: S608
        row = cursor.fetchone()
    return None if row is None else str(row[0])


def chain_of_noops(marker: str) -> Any:
    from celery import chain

    from bench.flows import noop_task

    # Immutable signatures: each task ignores the one before it, as the workflow's steps do.
    return chain(*[noop_task.si() for _ in range(STEPS - 1)], noop_task.si(marker))


def chains_done(markers: list[str]) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM bench_chain_done WHERE id = ANY(%s)", [markers])
        return int(cursor.fetchone()[0])


def chain_latency() -> float:
    """Seconds from sending the chain to its last task's row being visible."""
    marker = uuid.uuid4().hex
    began = time.perf_counter()
    chain_of_noops(marker).apply_async()
    poll(lambda: chains_done([marker]) == 1, LATENCY_POLL, SAMPLE_TIMEOUT, f"chain {marker}")
    return time.perf_counter() - began


def sample_alternately(counts: Counts) -> tuple[list[float], list[float]]:
    """Latencies of workflows and chains, one of each in turn, so both meet the same noise."""
    for _ in range(counts.warmup):
        workflow_latency()
        chain_latency()
    workflows, chains = [], []
    progress = Progress(counts.runs, f"{STEPS}-step workflows and chains of {STEPS} tasks")
    for index in range(counts.runs):
        workflows.append(workflow_latency())
        chains.append(chain_latency())
        progress.show(index + 1)
    return workflows, chains


def workflow_burst(count: int) -> float:
    """Seconds to carry `count` runs, started back to back as an API client starts them (each
    sent to the workers as it is committed, as each chain is when it is sent), to their end."""
    from django.db import connection

    from engine.models import TERMINAL_STATUSES, Run
    from engine.runtime.runs import start_run

    began = time.perf_counter()
    run_ids = [start_run(WORKFLOW, {"steps": STEPS}).pk for _ in range(count)]
    progress = Progress(count, "runs done")
    # One array parameter, as chains_done asks: the ORM's IN list of every id, built again at
    # each look, took CPU from the workers on the same two cores.
    ended = (
        f"SELECT count(*) FROM {Run._meta.db_table} "  # noqa: S608
        "WHERE id = ANY(%s) AND status = ANY(%s)"
    )

    def all_ended() -> bool:
        with connection.cursor() as cursor:
            cursor.execute(ended, [run_ids, sorted(TERMINAL_STATUSES)])
            done = int(cursor.fetchone()[0])
        progress.show(done)
        return done == count

    poll(all_ended, BURST_POLL, BURST_TIMEOUT, f"{count} runs")
    elapsed = time.perf_counter() - began
    check_completed(run_ids)
    return elapsed


def chain_burst(count: int) -> float:
    """Seconds to carry `count` chains, sent back to back, to their last task."""
    markers = [uuid.uuid4().hex for _ in range(count)]
    began = time.perf_counter()
    for marker in markers:
        chain_of_noops(marker).apply_async()
    progress = Progress(count, "chains done")

    def all_done() -> bool:
        done = chains_done(markers)
        progress.show(done)
        return done == count

    poll(all_done, BURST_POLL, BURST_TIMEOUT, f"{count} chains")
    return time.perf_counter() - began


# --- where a run's time goes ----------------------------------------------------------------
@dataclass(frozen=True)
class RunCost:
    """A run started and advanced in this process (no broker, no worker), split in two."""

    seconds: float
    in_statements: float
    statements: int
    transactions: int
    commit_floor: float
    """One INSERT of a one-row table committed on its own: what a durable write costs at least."""
    parallel_commits: float = 0.0
    """Such commits per second on FLOOR_CONNECTIONS connections at once: the most steps a
    second that one commit each could reach."""
    timed_seconds: float = 0.0
    """The same run under a run timeout (TIMED_WORKFLOW), measured in turn with it."""
    timed_statements: int = 0


class StatementClock:
    """A Django execute wrapper: time inside the driver, statements, and transactions (a
    statement outside a transaction block is one, and so is each block)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.statements = 0
        self.transactions = 0
        self._transaction: object | None = None

    def __call__(
        self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any
    ) -> Any:
        from django.db import connection

        outermost = connection.atomic_blocks[0] if connection.in_atomic_block else None
        if outermost is None or outermost is not self._transaction:
            self.transactions += 1
        self._transaction = outermost
        began = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - began
            self.statements += 1


def run_cost(samples: int) -> RunCost:
    """Medians over `samples` runs of the bench workflow created and advanced right here, and
    the commit floor measured in turn with them."""
    from django.db import connection

    from engine.models import Run, RunStatus
    from engine.runtime.runner import advance
    from engine.runtime.runs import start_run

    with connection.cursor() as cursor:
        cursor.execute(COMMIT_FLOOR_TABLE)
    totals, inside, floors, timed = [], [], [], []
    clock = timed_clock = StatementClock()

    def started_and_advanced(workflow: str, clock: StatementClock) -> float:
        with connection.execute_wrapper(clock):
            began = time.perf_counter()
            run = start_run(workflow, {"steps": STEPS})
            advance(run.pk)
            elapsed = time.perf_counter() - began
        if Run.objects.get(pk=run.pk).status != RunStatus.COMPLETED:
            raise BenchError(f"run {run.pk}, advanced in this process, did not complete")
        return elapsed

    for _ in range(samples):
        clock = StatementClock()
        totals.append(started_and_advanced(WORKFLOW, clock))
        inside.append(clock.seconds)
        floors.append(commit_floor(clock.transactions))
        timed_clock = StatementClock()
        timed.append(started_and_advanced(TIMED_WORKFLOW, timed_clock))
    return RunCost(
        seconds=statistics.median(totals),
        in_statements=statistics.median(inside),
        statements=clock.statements,
        transactions=clock.transactions,
        commit_floor=statistics.median(floors),
        timed_seconds=statistics.median(timed),
        timed_statements=timed_clock.statements,
    )


FLOOR_CONNECTIONS = 4
FLOOR_SECONDS = 2.0


def parallel_commit_floor(url: str) -> float:
    """One-row INSERT+COMMITs per second on FLOOR_CONNECTIONS connections at once, one thread
    each (the driver waits for the server without holding the GIL)."""
    import threading

    import psycopg

    counts = [0] * FLOOR_CONNECTIONS
    ready = threading.Barrier(FLOOR_CONNECTIONS)
    stop = [0.0]

    def commit_in_a_loop(index: int) -> None:
        with psycopg.connect(url, autocommit=True) as database:
            ready.wait()
            stop[0] = stop[0] or time.monotonic() + FLOOR_SECONDS
            while time.monotonic() < stop[0]:
                database.execute("INSERT INTO bench_commit_floor (at) VALUES (now())")
                counts[index] += 1

    threads = [
        threading.Thread(target=commit_in_a_loop, args=(index,))
        for index in range(FLOOR_CONNECTIONS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with psycopg.connect(url, autocommit=True) as database:
        database.execute("TRUNCATE bench_commit_floor")
    return sum(counts) / FLOOR_SECONDS


COMMIT_FLOOR_TABLE = (
    "CREATE TABLE IF NOT EXISTS bench_commit_floor (id BIGSERIAL PRIMARY KEY, at TIMESTAMPTZ)"
)


def commit_floor(commits: int) -> float:
    """Seconds per INSERT+COMMIT of a one-row table, `commits` of them back to back (a
    run's read-only transactions cost less: the floor is generous)."""
    from django.db import connection

    with connection.cursor() as cursor:
        began = time.perf_counter()
        for _ in range(commits):
            cursor.execute("INSERT INTO bench_commit_floor (at) VALUES (now())")
        elapsed = time.perf_counter() - began
        cursor.execute("TRUNCATE bench_commit_floor")
    return elapsed / commits


# --- reporting ------------------------------------------------------------------------------
def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def latency_row(name: str, samples: list[float]) -> str:
    median = statistics.median(samples)
    return (
        f"  {name:<38} median {median * 1000:7.1f} ms   p95 {percentile(samples, 0.95) * 1000:7.1f}"
        f" ms   {median * 1000 / STEPS:5.2f} ms per step"
    )


def throughput_row(name: str, count: int, unit: str, elapsed: float) -> str:
    total = count * STEPS
    return f"  {name:<38} {total:>6,} {unit} in {elapsed:6.2f} s   {total / elapsed:8,.0f} {unit}/s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, help="latency samples of each kind (default 30)")
    parser.add_argument("--burst", type=int, help="runs and chains started at once (default 200)")
    parser.add_argument("--quick", action="store_true", help="small counts, for a smoke check")
    parser.add_argument(
        "--async-step-commits",
        action="store_true",
        help="workers set STEPWISE_ASYNC_STEP_COMMITS=true",
    )
    args = parser.parse_args()
    counts = Counts(
        runs=args.runs or (5 if args.quick else 30),
        warmup=2 if args.quick else 5,
        burst=args.burst or (20 if args.quick else 200),
    )
    began, load = time.perf_counter(), os.getloadavg()[0]
    try:
        figures = measure(counts, args.async_step_commits)
    except BenchError as exc:
        note(f"\nbench/engine.py could not measure: {exc}")
        raise SystemExit(1) from None
    report(counts, *figures, wall=time.perf_counter() - began, load=load)


def measure(
    counts: Counts, async_step_commits: bool = False
) -> tuple[list[float], list[float], CpuSplit, CpuSplit, RunCost]:
    env = bench_environment(async_step_commits)
    note(f"preparing {env['DATABASE_URL']} ...")
    prepare_database(env)
    os.environ.update(env)
    import django

    django.setup()
    from config.celery import app

    clean_up(app)
    with tempfile.TemporaryDirectory(prefix="stepwise-bench-") as log_dir:
        note("latency: one worker, prefork concurrency 1")
        with celery_worker(app, env, Path(log_dir), concurrency=1):
            workflows, chains = sample_alternately(counts)
        note("throughput: one worker, prefork concurrency 2 (two worker processes)")
        with celery_worker(app, env, Path(log_dir), concurrency=2) as worker:
            # Both child processes import and connect before the clock starts.
            workflow_burst(max(2, counts.warmup))
            chain_burst(max(2, counts.warmup))
            role = burst_role(worker.process.pid, env["DATABASE_URL"])
            workflow_rounds, chain_rounds = [], []
            for _ in range(BURST_ROUNDS):
                with cpu_split(role, time.perf_counter) as split:
                    workflow_burst(counts.burst)
                workflow_rounds.append(split)
                with cpu_split(role, time.perf_counter) as split:
                    chain_burst(counts.burst)
                chain_rounds.append(split)
    note("where a run's time goes: runs advanced in this process, no worker running")
    cost = run_cost(counts.runs)
    note(f"the commit floor on {FLOOR_CONNECTIONS} connections at once, {FLOOR_SECONDS:g} s")
    cost = replace(cost, parallel_commits=parallel_commit_floor(env["DATABASE_URL"]))
    clean_up(app)
    fastest = functools.partial(min, key=lambda split: split.wall)
    return workflows, chains, fastest(workflow_rounds), fastest(chain_rounds), cost


def burst_role(worker_pid: int, url: str) -> Role:
    """Who a process is in a burst: found by the worker's process id and, for PostgreSQL's
    backends, by the bench database's name in their title and this process's own backend."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        own_backend = int(cursor.fetchone()[0])
    database = urlsplit(url).path.lstrip("/")

    def role(pid: int, process: Process) -> str | None:
        if pid in (os.getpid(), own_backend):
            return CPU_ROLES[0]
        if pid == worker_pid:
            return CPU_ROLES[1]
        if process.parent == worker_pid:
            return CPU_ROLES[2]
        if process.command.startswith("postgres:"):
            return CPU_ROLES[3] if f" {database} " in process.command else CPU_ROLES[4]
        if process.command.startswith("redis-server"):
            return CPU_ROLES[5]
        return None

    return role


CPU_ROLES = (
    "this process (starts, watches) + its backend",
    "Celery's consumer (the worker's parent)",
    "the worker's two processes",
    "their PostgreSQL backends",
    "PostgreSQL's own (WAL writer, ...)",
    "Redis",
)


def report(
    counts: Counts,
    workflows: list[float],
    chains: list[float],
    workflow_round: CpuSplit,
    chain_round: CpuSplit,
    cost: RunCost,
    wall: float,
    load: float,
) -> None:
    from django.conf import settings

    workflow_seconds, chain_seconds = workflow_round.wall, chain_round.wall

    database = settings.DATABASES["default"]
    latency_ratio = statistics.median(workflows) / statistics.median(chains)
    steps_per_second = counts.burst * STEPS / workflow_seconds
    tasks_per_second = counts.burst * STEPS / chain_seconds
    cores = os.cpu_count() or 0

    print(
        f"Stepwise engine: PostgreSQL {database['HOST']}/{database['NAME']}, Redis "
        f"{settings.REDIS_URL}, queue {QUEUE}; {cores} cores, load average {load:.1f} at start"
    )
    if settings.STEPWISE_ASYNC_STEP_COMMITS:
        print("workers: STEPWISE_ASYNC_STEP_COMMITS=true (a step's own commit skips the flush)")
    print(
        f"latency, one at a time: 1 worker, prefork concurrency 1; {counts.runs} samples of each, "
        f"taken in turn, after {counts.warmup} warm-up"
    )
    print(latency_row(f"{STEPS}-step workflow", workflows))
    print(latency_row(f"raw Celery chain of {STEPS} (baseline)", chains))
    print(f"  {'workflow / chain (medians)':<38} {latency_ratio:.2f}x")
    print(
        f"throughput, {counts.burst} at once: 1 worker, prefork concurrency 2 "
        f"(two worker processes); best of {BURST_ROUNDS} rounds"
    )
    print(throughput_row(f"{STEPS}-step workflows", counts.burst, "steps", workflow_seconds))
    print(
        throughput_row(
            f"raw Celery chains of {STEPS} (baseline)", counts.burst, "tasks", chain_seconds
        )
    )
    print(f"  {'workflow steps/s / chain tasks/s':<38} {steps_per_second / tasks_per_second:.2f}x")
    print(
        f"  {f'commit floor, {FLOOR_CONNECTIONS} connections at once':<38} "
        f"{cost.parallel_commits:>14,.0f} one-row commits/s; the workflows reached "
        f"{steps_per_second / cost.parallel_commits:.0%} of it (a step is one commit)"
    )
    report_cpu(workflow_round, chain_round, counts.burst * STEPS, cores)
    report_run_cost(cost, statistics.median(chains) / STEPS, statistics.median(chains))
    latency_met = latency_ratio <= AIM_LATENCY_RATIO
    throughput_met = steps_per_second >= AIM_STEPS_PER_SECOND
    machine = "" if cores == 2 else f"; this machine has {cores} cores"
    print("aims")
    print(
        "  durable workflow latency at most half the raw chain's: "
        f"{'met' if latency_met else 'NOT met'} ({latency_ratio:.2f}x)"
    )
    print(
        f"  at least {AIM_STEPS_PER_SECOND:,.0f} steps/s on a 2-core machine:             "
        f"{'met' if throughput_met else 'NOT met'} ({steps_per_second:,.0f} steps/s{machine})"
    )
    print(f"took {wall:.0f} s")


def report_cpu(workflows: CpuSplit, chains: CpuSplit, units: int, cores: int) -> None:
    """Whose CPU each side's fastest burst used: on two cores a burst is bound by it."""
    if not (workflows.available and chains.available):
        print("where the CPU went: not measured (no /proc to read on this system)")
        return
    print(
        f"where the CPU went in those rounds, core-seconds (of {cores} cores x the wall time) "
        "and ms a step / a task"
    )
    print(f"  {'':<46}{'workflows':>17}{'chains':>17}")
    rows = [*CPU_ROLES, "the rest of the machine"]
    for name in rows:
        cells = [split.seconds.get(name, 0.0) for split in (workflows, chains)]
        print(
            f"  {name:<46}"
            + "".join(f"{value:8.2f} {value / units * 1000:6.2f} ms" for value in cells)
        )
    totals = [(split.total(), cores * split.wall) for split in (workflows, chains)]
    print(
        f"  {'all, against what the cores had':<46}"
        + "".join(f"{used:8.2f} of {had:5.2f}  " for used, had in totals)
    )


def report_run_cost(cost: RunCost, link: float, chain: float) -> None:
    """Where a run's time goes, and the least a run through one Celery link could take."""
    engine_python = cost.seconds - cost.in_statements
    floor = link + cost.transactions * cost.commit_floor
    print(
        "where a run's time goes: started and advanced in this process (no broker, no worker), "
        "medians"
    )
    print(f"  {'a run, start to end':<44} {cost.seconds * 1000:7.2f} ms")
    print(
        f"  {f'inside its {cost.statements} statements ({cost.transactions} transactions)':<44} "
        f"{cost.in_statements * 1000:7.2f} ms   PostgreSQL, its commits and the driver"
    )
    print(f"  {'the rest: the engine and the ORM in Python':<44} {engine_python * 1000:7.2f} ms")
    print(
        f"  {'one INSERT+COMMIT of a one-row table':<44} {cost.commit_floor * 1000:7.2f} ms   "
        f"x {cost.transactions} = {cost.transactions * cost.commit_floor * 1000:.2f} ms"
    )
    print(
        f"  {'the same run under a run timeout':<44} {cost.timed_seconds * 1000:7.2f} ms   "
        f"{cost.timed_statements} statements, "
        f"{cost.timed_seconds / cost.seconds:.2f}x the plain run"
    )
    print(f"  {'one link of the raw chain (its median / 10)':<44} {link * 1000:7.2f} ms")
    print(
        f"  floor of a durable run sent through one Celery link: {floor * 1000:.2f} ms "
        f"({floor / chain:.2f}x the chain), if its statements cost no more than a one-row insert "
        "and the engine no time"
    )


if __name__ == "__main__":
    main()
