"""The chaos scenario at full size: 1,000 graph runs while workers die and servers restart.

Runs tests/chaos/scenario.py twice on a private PostgreSQL and Redis (started here, copied from
a migrated `stepwise_bench_chaos` database on the local server, created when missing): first
without faults (the baseline), then with workers SIGKILLed at random, Redis restarted once and
PostgreSQL restarted once. Prints the figures of both (runs, kills, restarts, effects,
duplicates, lost approvals) and the time ratio of chaos to baseline. Never fails a build.

    .venv/bin/python bench/chaos.py [--runs 1000] [--kills 10] [--no-baseline]
"""

import argparse
import os
import sys
import tempfile
from pathlib import Path

# Run as a script, this file's folder comes first on sys.path and bench/engine.py would shadow
# the engine package: the project root must come before it.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.engine import note, prepare_database
from tests.chaos.scenario import Figures, Plan, run_chaos
from tests.processes import process_environment

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/stepwise_bench_chaos"
SHOWN = (
    "runs",
    "completed",
    "kills",
    "redis_restarts",
    "postgres_restarts",
    "effects",
    "effect_keys",
    "repeated_deliveries",
    "duplicates",
    "approvals",
    "lost_approvals",
    "server_errors",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--no-baseline", action="store_true")
    args = parser.parse_args()

    env = process_environment(DATABASE_URL=os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL))
    prepare_database(env)
    settle = max(600.0, args.runs * 3.0)
    logs = Path(tempfile.mkdtemp(prefix="stepwise-bench-chaos-"))
    note(f"process logs in {logs}")
    baseline: Figures | None = None
    if not args.no_baseline:
        note(f"baseline: {args.runs} runs without faults…")
        quiet = Plan(
            args.runs, kills=0, redis_restarts=0, postgres_restarts=0, settle_timeout=settle
        )
        baseline = run_chaos(quiet, logs / "baseline", env["DATABASE_URL"])
    note(f"chaos: {args.runs} runs, {args.kills} kills, a Redis and a PostgreSQL restart…")
    chaos = run_chaos(
        Plan(args.runs, kills=args.kills, settle_timeout=settle),
        logs / "chaos",
        env["DATABASE_URL"],
    )

    print(f"{'':<22}{'baseline':>12}{'chaos':>12}")
    for name in SHOWN:
        before = getattr(baseline, name) if baseline else ""
        print(f"{name:<22}{before!s:>12}{getattr(chaos, name)!s:>12}")
    if baseline:
        ratio = chaos.seconds / baseline.seconds
        print(f"{'seconds':<22}{baseline.seconds:>12.1f}{chaos.seconds:>12.1f}{ratio:>11.2f}x")
    else:
        print(f"{'seconds':<22}{'':>12}{chaos.seconds:>12.1f}")
    for problem in [*(baseline.problems if baseline else []), *chaos.problems][:20]:
        print(f"problem: {problem}")


if __name__ == "__main__":
    main()
