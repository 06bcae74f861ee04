"""What a bulkhead costs a step: a 10-step workflow advanced inline, with and without a bulkhead.

Runs the advancer in this process (no broker, no worker) on PostgreSQL (DATABASE_URL, by
default the local server and a `stepwise_bench_bulkhead` database, created and migrated when
missing), so only the steps' own database work is timed. The baseline is the same workflow
without a bulkhead, measured alternately in the same run; the bulkhead always has a free slot
(the cost of waiting is a suspension, timed by bench/engine.py's wake-ups). Prints figures and
ratios, never fails a build.

    .venv/bin/python bench/bulkheads.py [--runs 40]
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

# Run as a script, this folder comes first on sys.path and bench/engine.py would shadow the
# engine package: the project root must come before it.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bulkhead_flows import STEPS
from bench.engine import BenchError, note, percentile, prepare_database
from tests.processes import process_environment

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/stepwise_bench_bulkhead"


def measure(runs: int) -> None:
    env = process_environment(
        DATABASE_URL=os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL,
        STEPWISE_QUEUE="stepwise-bench-bulkhead",
        STEPWISE_WORKFLOW_MODULES="bench.bulkhead_flows",
        STEPWISE_MAX_RUNS_PER_MINUTE="0",
        STEPWISE_LIVE_UPDATES="false",
        DEBUG="false",
        LOG_LEVEL="WARNING",
    )
    env.pop("REDIS_URL", None)
    note(f"preparing {env['DATABASE_URL']} ...")
    prepare_database(env)
    os.environ.update(env)
    os.environ.pop("REDIS_URL", None)
    import django

    django.setup()
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from engine.models import Run
    from engine.runtime.runner import advance
    from engine.runtime.runs import create_run

    def one(slug: str) -> tuple[float, int]:
        with transaction.atomic():
            run = create_run(slug, {})
        began = time.perf_counter()
        with CaptureQueriesContext(connection) as queries:
            advance(run.pk)
        elapsed = time.perf_counter() - began
        if Run.objects.get(pk=run.pk).status != "completed":
            raise BenchError(f"run {run.pk} of {slug} did not complete")
        return elapsed, len(queries)

    for slug in ("bench-plain-steps", "bench-bulkhead-steps"):  # warm up imports and caches
        one(slug)
    plain_times: list[float] = []
    guarded_times: list[float] = []
    plain_queries = guarded_queries = 0
    for _ in range(runs):
        elapsed, queries = one("bench-plain-steps")
        plain_times.append(elapsed)
        plain_queries = queries
        elapsed, queries = one("bench-bulkhead-steps")
        guarded_times.append(elapsed)
        guarded_queries = queries
    base, cost = statistics.median(plain_times), statistics.median(guarded_times)
    extra_ms = (cost - base) * 1000 / STEPS
    print(f"{STEPS}-step workflow advanced inline, {runs} runs each, alternating (medians, p90):")
    print(
        f"  without a bulkhead (baseline): {base * 1000:7.2f} ms  p90 "
        f"{percentile(plain_times, 0.9) * 1000:7.2f} ms  {plain_queries} queries"
    )
    print(
        f"  every step bulkheaded:         {cost * 1000:7.2f} ms  p90 "
        f"{percentile(guarded_times, 0.9) * 1000:7.2f} ms  {guarded_queries} queries"
    )
    print(
        f"  ratio {cost / base:.2f}x; a bulkheaded step costs {extra_ms:+.2f} ms and "
        f"{(guarded_queries - plain_queries) / STEPS:.1f} queries more than a plain one"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--quick", action="store_true", help="10 runs each")
    arguments = parser.parse_args()
    try:
        measure(10 if arguments.quick else arguments.runs)
    except BenchError as failed:
        note(f"bench/bulkheads.py could not measure: {failed}")
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
