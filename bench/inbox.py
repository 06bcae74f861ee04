"""The first page of a person's inbox among many open tasks, against a plain indexed select.

Fills a database of its own (DATABASE_URL; by default the local server's `stepwise_bench_inbox`,
created and migrated when missing) with N open tasks, each on a run of its own, over 50 groups
(one or two a task) and 8 workflows, due dates within 30 days either side of now (one in ten
without), a few assigned to people directly and a few claimed. The data set is kept and reused
by the next run of the same size. A reader in 3 groups asks `find_tasks` for the first page of
their open tasks in one workflow, sorted by due date; the baseline, measured in turn with it,
is 50 open task rows read by primary key from the same table. Prints both, the ratio, and the
top of the plan PostgreSQL chose for the page. The aim: at most 150 ms. Never fails a build.

    .venv/bin/python bench/inbox.py [--tasks 100000] [--repeat 30] [--quick]
"""

import argparse
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

# Run as a script, this file's folder comes first on sys.path and bench/engine.py would shadow
# the engine package: the project root must come before it.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.datasets import database_only_environment, forget_dataset, kept_size, note_dataset
from bench.engine import BenchError, Progress, note, percentile, prepare_database

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/stepwise_bench_inbox"
PREFIX = "inbox-"
READER = f"{PREFIX}reader"
GROUPS = 50
READER_GROUPS = (3, 17, 42)
OTHER_USERS = 200
# Uneven, as real workflows are; the page filters on the second most common.
WORKFLOWS = {
    f"{PREFIX}expenses": 30,
    f"{PREFIX}purchases": 20,
    f"{PREFIX}contracts": 15,
    f"{PREFIX}hiring": 10,
    f"{PREFIX}invoices": 10,
    f"{PREFIX}refunds": 7,
    f"{PREFIX}access": 5,
    f"{PREFIX}travel": 3,
}
PAGE_WORKFLOW = f"{PREFIX}purchases"
PAGE_SIZE = 50
DUE_SPREAD = timedelta(days=30)
SHARE_WITHOUT_DUE = 0.1
SHARE_IN_TWO_GROUPS = 0.3
SHARE_DIRECT = 0.02
SHARE_CLAIMED = 0.01
# Bump when the shape of the data set changes: a kept one of another version is rebuilt.
DATASET_VERSION = 1
DATASET_TABLE = "bench_inbox_dataset"
SEED = 20261127
BATCH = 5000
WARMUP = 5
PLAN_LINES = 24
PLAN_WIDTH = 150
AIM_SECONDS = 0.150


@dataclass(frozen=True)
class Samples:
    page: list[float]
    baseline: list[float]


@dataclass(frozen=True)
class Findings:
    samples: Samples
    plan: list[str]
    built: str
    visible: int
    in_workflow: int


# --- set-up ---------------------------------------------------------------------------------
def remove_dataset() -> None:
    """Delete what an earlier run built: its runs, tasks, people and groups, and nothing else."""
    from django.contrib.auth.models import Group, User
    from django.db import connection
    from psycopg import sql

    from engine.models import HumanTask, Run

    def table(model: type[Any]) -> sql.Identifier:
        return sql.Identifier(model._meta.db_table)

    bench_runs = sql.SQL("SELECT id FROM {} WHERE workflow LIKE %s").format(table(Run))
    bench_tasks = sql.SQL("SELECT id FROM {} WHERE run_id IN ({})").format(
        table(HumanTask), bench_runs
    )
    pattern = [f"{PREFIX}%"]
    forget_dataset(DATASET_TABLE)
    # Raw deletes: the ORM's cascade would fetch every one of 100,000 tasks first.
    with connection.cursor() as cursor:
        for through in (HumanTask.assigned_groups.through, HumanTask.assignees.through):
            delete = sql.SQL("DELETE FROM {} WHERE humantask_id IN ({})")
            cursor.execute(delete.format(table(through), bench_tasks), pattern)
        delete = sql.SQL("DELETE FROM {} WHERE run_id IN ({})")
        cursor.execute(delete.format(table(HumanTask), bench_runs), pattern)
        delete = sql.SQL("DELETE FROM {} WHERE workflow LIKE %s")
        cursor.execute(delete.format(table(Run)), pattern)
    User.objects.filter(username__startswith=PREFIX).delete()
    Group.objects.filter(name__startswith=PREFIX).delete()


def build_dataset(count: int) -> None:
    """Runs, open tasks, groups and people, in batches; then statistics for the planner."""
    from django.contrib.auth.models import Group, User
    from django.db import connection, transaction
    from django.utils import timezone
    from psycopg import sql

    from engine.models import HumanTask, Run, RunStatus, TaskKind

    rng = random.Random(SEED)  # noqa: S311 -- the same data set every time, not a secret
    now = timezone.now()
    names, weights = list(WORKFLOWS), list(WORKFLOWS.values())
    group_through = HumanTask.assigned_groups.through
    user_through = HumanTask.assignees.through
    progress = Progress(count, "tasks built")
    with transaction.atomic():
        remove_dataset()
        groups = Group.objects.bulk_create(
            [Group(name=f"{PREFIX}group-{index:02}") for index in range(GROUPS)]
        )
        others = User.objects.bulk_create(
            [User(username=f"{PREFIX}user-{index:03}") for index in range(OTHER_USERS)]
        )
        reader = User.objects.create(username=READER)
        memberships = [User.groups.through(user=reader, group=groups[i]) for i in READER_GROUPS]
        for user in others:
            memberships += [User.groups.through(user=user, group=g) for g in rng.sample(groups, 3)]
        User.groups.through.objects.bulk_create(memberships)
        people = [*others, reader]
        for start in range(0, count, BATCH):
            size = min(BATCH, count - start)
            created = [now - timedelta(seconds=rng.uniform(0, 30 * 86400)) for _ in range(size)]
            runs = Run.objects.bulk_create(
                [
                    Run(
                        workflow=workflow,
                        version="bench",
                        status=RunStatus.WAITING,
                        created_at=at,
                        started_at=at,
                    )
                    for workflow, at in zip(
                        rng.choices(names, weights, k=size), created, strict=True
                    )
                ]
            )
            tasks = HumanTask.objects.bulk_create(
                [
                    HumanTask(
                        run=run,
                        step_name="approve",
                        kind=TaskKind.APPROVAL,
                        title=f"Approve {run.workflow.removeprefix(PREFIX)} {start + index}",
                        created_at=run.created_at,
                        due_at=due_date(rng, now),
                        claimed_by=rng.choice(others) if rng.random() < SHARE_CLAIMED else None,
                    )
                    for index, run in enumerate(runs)
                ]
            )
            in_groups, direct = [], []
            for task in tasks:
                two = rng.random() < SHARE_IN_TWO_GROUPS
                for group in rng.sample(groups, 2 if two else 1):
                    in_groups.append(group_through(humantask=task, group=group))
                if rng.random() < SHARE_DIRECT:
                    direct.append(user_through(humantask=task, user=rng.choice(people)))
            group_through.objects.bulk_create(in_groups)
            user_through.objects.bulk_create(direct)
            progress.show(start + size)
        note_dataset(DATASET_TABLE, DATASET_VERSION, count)
    # Fresh statistics and a visibility map, as autovacuum would leave them in a while: without
    # them the planner guesses and the first runs measure its guesses.
    tables = [
        Run._meta.db_table,
        HumanTask._meta.db_table,
        group_through._meta.db_table,
        user_through._meta.db_table,
        User.groups.through._meta.db_table,
    ]
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(sql.SQL("VACUUM ANALYZE {}").format(sql.Identifier(table)))


def due_date(rng: random.Random, now: datetime) -> datetime | None:
    if rng.random() < SHARE_WITHOUT_DUE:
        return None
    return now + DUE_SPREAD * rng.uniform(-1, 1)


# --- measuring ------------------------------------------------------------------------------
def timed(action: Callable[[], object]) -> float:
    began = time.perf_counter()
    action()
    return time.perf_counter() - began


def sample_alternately(
    page: Callable[[], object], baseline: Callable[[], object], repeat: int
) -> Samples:
    """Both queries, one after the other, so that both meet the same noise."""
    for _ in range(WARMUP):
        page()
        baseline()
    pages, baselines = [], []
    progress = Progress(repeat, "pages and baseline selects")
    for index in range(repeat):
        pages.append(timed(page))
        baselines.append(timed(baseline))
        progress.show(index + 1)
    return Samples(pages, baselines)


def page_plan(page: Callable[[], object]) -> list[str]:
    """EXPLAIN ANALYZE of the statement that read the page, exactly as find_tasks sent it."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from engine.models import HumanTask

    with CaptureQueriesContext(connection) as captured:
        page()
    table = f'FROM "{HumanTask._meta.db_table}"'
    statements = [query["sql"] for query in captured.captured_queries if table in query["sql"]]
    if not statements:
        raise BenchError("find_tasks read no task rows")
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) {statements[-1]}")
        return [str(row[0]) for row in cursor.fetchall()]


def measure(count: int, repeat: int) -> Findings:
    env = database_only_environment(DEFAULT_DATABASE_URL)
    note(f"preparing {env['DATABASE_URL']} ...")
    prepare_database(env)
    os.environ.update(env)
    os.environ.pop("REDIS_URL", None)
    import django

    django.setup()
    from django.contrib.auth.models import User

    from engine.human.queries import TaskQuery, find_tasks, tasks_for
    from engine.models import HumanTask, TaskStatus

    kept = kept_size(DATASET_TABLE, DATASET_VERSION)
    if kept == count:
        note(f"reusing the data set of {count:,} tasks already in the database")
        built = "reused"
    else:
        why = "none kept" if kept is None else f"the kept one has {kept:,} tasks"
        note(f"building a data set of {count:,} tasks ({why}) ...")
        began = time.perf_counter()
        build_dataset(count)
        built = f"built in {time.perf_counter() - began:.0f} s"

    reader = User.objects.get(username=READER)
    query = TaskQuery(view="open", workflow=PAGE_WORKFLOW, sort="due", limit=PAGE_SIZE)

    def page() -> object:
        found = find_tasks(reader, query)
        if len(found.tasks) != PAGE_SIZE:
            raise BenchError(f"the page has {len(found.tasks)} tasks, not {PAGE_SIZE}")
        return found

    def baseline() -> object:
        return list(HumanTask.objects.filter(status="open").order_by("pk")[:PAGE_SIZE])

    samples = sample_alternately(page, baseline, repeat)
    visible = tasks_for(reader).filter(status=TaskStatus.OPEN)
    return Findings(
        samples=samples,
        plan=page_plan(page),
        built=built,
        visible=visible.count(),
        in_workflow=visible.filter(run__workflow=PAGE_WORKFLOW).count(),
    )


# --- reporting ------------------------------------------------------------------------------
def row(name: str, samples: list[float]) -> str:
    return (
        f"  {name:<52} median {statistics.median(samples) * 1000:7.1f} ms   "
        f"p95 {percentile(samples, 0.95) * 1000:7.1f} ms"
    )


def plan_summary(plan: list[str]) -> list[str]:
    """The plan's nodes with their filters and what the filters threw away, cut to fit a
    terminal, then the timing lines; the whole plan is one EXPLAIN away."""
    kept = ("->", "Filter:", "Rows Removed by Filter:", "Index Cond:", "SubPlan", "Buffers:")
    timing = [line for line in plan if line.startswith(("Planning Time", "Execution Time"))]
    nodes = [plan[0], *(line for line in plan[1:] if line.strip().startswith(kept))]
    # Every node repeats the buffers of those below it: the top's total is enough.
    nodes = [line for index, line in enumerate(nodes) if index < 2 or "Buffers:" not in line]
    shown = [line if len(line) <= PLAN_WIDTH else line[: PLAN_WIDTH - 3] + "..." for line in nodes]
    if len(shown) > PLAN_LINES:
        shown = [*shown[:PLAN_LINES], f"... {len(shown) - PLAN_LINES} more nodes and filters"]
    return shown + timing


def report(count: int, repeat: int, findings: Findings, wall: float, load: float) -> None:
    from django.conf import settings

    database = settings.DATABASES["default"]
    samples = findings.samples
    page, baseline = statistics.median(samples.page), statistics.median(samples.baseline)
    cores = os.cpu_count() or 0
    print(
        f"Stepwise inbox: PostgreSQL {database['HOST']}/{database['NAME']}; {count:,} open tasks "
        f"over {GROUPS} groups and {len(WORKFLOWS)} workflows ({findings.built}); "
        f"{cores} cores, load average {load:.1f} at start"
    )
    print(
        f"a reader in {len(READER_GROUPS)} groups sees {findings.visible:,} open tasks, "
        f"{findings.in_workflow:,} of them in {PAGE_WORKFLOW}; {repeat} samples of each, "
        f"taken in turn, after {WARMUP} warm-up"
    )
    print(row(f"find_tasks: first {PAGE_SIZE}, one workflow, by due date", samples.page))
    print(row(f"{PAGE_SIZE} open tasks by primary key (baseline)", samples.baseline))
    print(f"  {'page / baseline (medians)':<52} {page / baseline:.1f}x")
    print("aim")
    print(
        f"  first page in at most {AIM_SECONDS * 1000:.0f} ms:   "
        f"{'met' if page <= AIM_SECONDS else 'NOT met'} (median {page * 1000:.1f} ms, "
        f"p95 {percentile(samples.page, 0.95) * 1000:.1f} ms)"
    )
    print("the page's plan (EXPLAIN ANALYZE, top)")
    for line in plan_summary(findings.plan):
        print(f"  {line}")
    print(f"took {wall:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, help="open tasks in the data set (default 100000)")
    parser.add_argument("--repeat", type=int, default=30, help="samples of each (default 30)")
    parser.add_argument("--quick", action="store_true", help="10,000 tasks, for a smoke check")
    args = parser.parse_args()
    count = args.tasks or (10_000 if args.quick else 100_000)
    if count < PAGE_SIZE * 100 or args.repeat < 1:
        parser.error(f"--tasks at least {PAGE_SIZE * 100}, --repeat at least 1")
    began, load = time.perf_counter(), os.getloadavg()[0]
    try:
        findings = measure(count, args.repeat)
    except BenchError as exc:
        note(f"\nbench/inbox.py could not measure: {exc}")
        raise SystemExit(1) from None
    report(count, args.repeat, findings, time.perf_counter() - began, load)


if __name__ == "__main__":
    main()
