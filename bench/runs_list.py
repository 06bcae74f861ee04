"""The runs explorer's first page among a million runs, against a plain select on the same table.

Fills a database of its own (DATABASE_URL; by default the local server's `stepwise_bench_runs`,
created and migrated when missing) with N runs (one INSERT … SELECT over generate_series) over
50 workflows of uneven size, created over the last 30 days: mostly completed, 5 % failed (with
an error message), some waiting or running, an input with a customer (one of 1,000) and a
number. The data set is kept and reused by the next run of the same size. For each of five
queries — no filter, one workflow, failed in the last day, an input key match, a text search —
`find_runs` reads the first page (50 runs, newest first) and, in turn with it, a plain
`SELECT … LIMIT 50` of the same columns from the same table. Prints the medians, the ratio and
the top of each plan. The aim: at most 150 ms each. Never fails a build.

    .venv/bin/python bench/runs_list.py [--runs 1000000] [--repeat 15] [--quick]
"""

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Run as a script, this file's folder comes first on sys.path and bench/engine.py would shadow
# the engine package: the project root must come before it.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.datasets import (
    database_only_environment,
    defaults_for_the_rest,
    forget_dataset,
    kept_size,
    note_dataset,
)
from bench.engine import BenchError, Progress, note, percentile, prepare_database

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/stepwise_bench_runs"
PREFIX = "runs-bench-"
WORKFLOWS = 50
CUSTOMERS = 1000
PAGE_SIZE = 50
DAYS = 30
# Bump when the shape of the data set changes: a kept one of another version is rebuilt.
DATASET_VERSION = 2
DATASET_TABLE = "bench_runs_dataset"
WARMUP = 3
PLAN_LINES = 8
PLAN_WIDTH = 150
AIM_SECONDS = 0.150

# Workflow i gets a share proportional to 1 / (i + 1): a few big ones, a long tail. The
# statuses: 5 % failed, 3 % cancelled, 2 % waiting, 1 % running, the rest completed.
# Built from this file's constants only.
FILLED = (
    "workflow, kind, version, status, input, output, error, depth, trigger, trigger_ref, "
    "created_at, started_at, finished_at, wake_requested, redo, lease_owner"
)
FILL = f"""
INSERT INTO engine_run ({FILLED} %(rest_columns)s)
SELECT
    '{PREFIX}' || lpad(w::text, 2, '0'), 'code', 'v' || (1 + i % 3), s.status,
    jsonb_build_object('customer', 'customer-' || (i % {CUSTOMERS}), 'n', i % 97),
    CASE WHEN s.status = 'completed' THEN jsonb_build_object('total', i % 500) END,
    CASE WHEN s.status = 'failed' THEN jsonb_build_object(
        'type', 'StepFailed',
        'message', 'charge failed: ' || (ARRAY['card declined', 'timeout talking to the bank',
            'address rejected', 'insufficient funds'])[1 + i % 4] || ' (ref ' || i || ')')
    END,
    0, CASE WHEN i % 10 = 0 THEN 'schedule' ELSE 'api' END, '',
    c.created_at, c.created_at,
    CASE WHEN s.status IN ('completed', 'failed', 'cancelled')
        THEN c.created_at + make_interval(secs => (i % 600) + (i % 7) * 0.1) END,
    false, '{{}}'::jsonb, '' %(rest_values)s
FROM generate_series(1, %(count)s) AS i
CROSS JOIN LATERAL (
    -- Multiplicative hashes of i, not random(): the same data set every time.
    SELECT floor({WORKFLOWS} * power(((i::bigint * 2654435761) % 1000003) / 1000003.0, 2))::int
               AS w,
           ((i::bigint * 40503 + 12345) % 999983) / 999983.0 AS r
) AS pick
CROSS JOIN LATERAL (
    SELECT CASE
        WHEN pick.r < 0.05 THEN 'failed'
        WHEN pick.r < 0.08 THEN 'cancelled'
        WHEN pick.r < 0.10 THEN 'waiting'
        WHEN pick.r < 0.11 THEN 'running'
        ELSE 'completed' END AS status
) AS s
CROSS JOIN LATERAL (
    SELECT %(end)s - make_interval(secs => %(span)s * (1 - i::float / %(count)s)) AS created_at
) AS c
"""  # noqa: S608


@dataclass(frozen=True)
class Scenario:
    name: str
    params: dict[str, Any]


SCENARIOS = [
    Scenario("no filter", {}),
    Scenario("one workflow", {"workflow": f"{PREFIX}07"}),
    Scenario("failed in the last day", {"status": "failed", "within": "24h"}),
    Scenario("input key match (input.customer)", {"match": "input.customer = customer-42"}),
    Scenario("text search in errors ('declined (ref 9')", {"q": "declined (ref 9"}),
]


@dataclass(frozen=True)
class Measured:
    scenario: Scenario
    page: list[float]
    baseline: list[float]
    found: int
    plan: list[str]


def build_dataset(count: int) -> None:
    """Replace the bench's runs with `count` new ones, in slices so that progress shows."""
    from django.db import connection, transaction

    from engine.models import Run

    rest_columns, rest_values = defaults_for_the_rest(Run, set(FILLED.split(", ")))
    forget_dataset(DATASET_TABLE)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM engine_run WHERE workflow LIKE %s", [f"{PREFIX}%"])
    slices = max(1, count // 100_000)
    span = DAYS * 86400.0 / slices
    progress = Progress(slices, "slices of runs inserted")
    done = 0
    for index in range(slices):
        size = count // slices + (1 if index < count % slices else 0)
        with transaction.atomic(), connection.cursor() as cursor:
            # Each slice's runs are newer than the last's: created_at follows generate_series.
            statement = FILL.replace("%(count)s", str(size)).replace("%(span)s", str(span))
            statement = statement.replace("%(rest_columns)s", rest_columns)
            statement = statement.replace("%(rest_values)s", rest_values)
            cursor.execute(statement.replace("%(end)s", _slice_end(index, slices)))
        done += size
        progress.show(index + 1)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE engine_run")
    note_dataset(DATASET_TABLE, DATASET_VERSION, done)


def _slice_end(index: int, slices: int) -> str:
    """The newest moment of a slice: slices cover the 30 days one after the other."""
    ago = DAYS * 86400.0 * (slices - 1 - index) / slices
    return f"(now() - make_interval(secs => {ago}))"


def timed(action: Callable[[], object]) -> float:
    began = time.perf_counter()
    action()
    return time.perf_counter() - began


def plan_of(page: Callable[[], object]) -> list[str]:
    """EXPLAIN ANALYZE of the statement that read the page, exactly as find_runs sent it."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        page()
    statements = [q["sql"] for q in captured.captured_queries if 'FROM "engine_run"' in q["sql"]]
    if not statements:
        raise BenchError("find_runs read no run rows")
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, COSTS OFF) {statements[-1]}")
        plan = [str(row[0]) for row in cursor.fetchall()]
    timing = [line for line in plan if line.startswith("Execution Time")]
    nodes = [line for line in plan if "->" in line or line is plan[0] or "Cond:" in line]
    shown = [line if len(line) <= PLAN_WIDTH else line[: PLAN_WIDTH - 3] + "..." for line in nodes]
    return shown[:PLAN_LINES] + timing


def measure(count: int, repeat: int) -> tuple[list[Measured], str]:
    env = database_only_environment(DEFAULT_DATABASE_URL)
    note(f"preparing {env['DATABASE_URL']} ...")
    prepare_database(env)
    os.environ.update(env)
    os.environ.pop("REDIS_URL", None)
    import django

    django.setup()
    from engine.models import Run
    from engine.runtime.run_search import LIST_FIELDS, find_runs, parse_run_query, workflow_titles

    kept = kept_size(DATASET_TABLE, DATASET_VERSION)
    if kept == count:
        note(f"reusing the data set of {count:,} runs already in the database")
        built = "reused"
    else:
        note(f"building a data set of {count:,} runs ...")
        began = time.perf_counter()
        build_dataset(count)
        built = f"built in {time.perf_counter() - began:.0f} s"

    fields = [name for name in LIST_FIELDS if "__" not in name]

    def baseline() -> object:
        return list(Run.objects.only(*fields)[:PAGE_SIZE])

    results = []
    for scenario in SCENARIOS:
        query = parse_run_query(scenario.params)

        def page(query: Any = query) -> Any:
            return find_runs(query, titles=workflow_titles())

        for _ in range(WARMUP):
            page()
            baseline()
        pages, baselines = [], []
        progress = Progress(repeat, f"samples: {scenario.name}")
        for index in range(repeat):
            pages.append(timed(page))
            baselines.append(timed(baseline))
            progress.show(index + 1)
        found = len(page().runs)
        results.append(Measured(scenario, pages, baselines, found, plan_of(page)))
    return results, built


def report(count: int, repeat: int, results: list[Measured], built: str, load: float) -> None:
    from django.conf import settings

    database = settings.DATABASES["default"]
    print(
        f"Stepwise runs explorer: PostgreSQL {database['HOST']}/{database['NAME']}; {count:,} "
        f"runs over {WORKFLOWS} workflows and {DAYS} days ({built}); {os.cpu_count()} cores, "
        f"load average {load:.1f} at start; {repeat} samples of each, in turn with the baseline"
    )
    for measured in results:
        page = statistics.median(measured.page)
        baseline = statistics.median(measured.baseline)
        verdict = "met" if page <= AIM_SECONDS else "NOT met"
        print(f"{measured.scenario.name}: {measured.found} runs on the page")
        print(
            f"  find_runs first page      median {page * 1000:7.1f} ms   "
            f"p95 {percentile(measured.page, 0.95) * 1000:7.1f} ms   aim {verdict}"
        )
        print(
            f"  SELECT … LIMIT {PAGE_SIZE} (baseline) median {baseline * 1000:7.1f} ms   "
            f"ratio {page / baseline:.1f}x"
        )
        for line in measured.plan:
            print(f"    {line}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, help="runs in the data set (default 1000000)")
    parser.add_argument("--repeat", type=int, default=15, help="samples of each (default 15)")
    parser.add_argument("--quick", action="store_true", help="50,000 runs, for a smoke check")
    args = parser.parse_args()
    count = args.runs or (50_000 if args.quick else 1_000_000)
    if count < PAGE_SIZE * 100 or args.repeat < 1:
        parser.error(f"--runs at least {PAGE_SIZE * 100}, --repeat at least 1")
    began, load = time.perf_counter(), os.getloadavg()[0]
    try:
        results, built = measure(count, args.repeat)
    except BenchError as exc:
        note(f"\nbench/runs_list.py could not measure: {exc}")
        raise SystemExit(1) from None
    report(count, args.repeat, results, built, load)
    note(f"took {time.perf_counter() - began:.0f} s")


if __name__ == "__main__":
    main()
