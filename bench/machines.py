"""State machine events applied per second against plain row updates, on real services.

Creates 1,000 instances of a two-state switch (each flip one journaled step) on PostgreSQL,
sends each one flip at once through engine.machines.instances.send_event, and times until a
worker (prefork, two processes) has applied them all; then times the same count of plain
single-row UPDATEs, one transaction each, as the baseline measured in the same run. Its own
queue on the bench database (bench/engine.py's set-up). Prints figures; never fails a build.

    .venv/bin/python bench/machines.py [--instances 1000] [--quick]
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

# Run as a script, this folder comes first on sys.path and bench/engine.py would shadow the
# engine package: the project root must come before it.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.engine import (
    BenchError,
    bench_environment,
    celery_worker,
    clean_up,
    note,
    prepare_database,
)

TIMEOUT = 600.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, help="instances, one event each (default 1000)")
    parser.add_argument("--quick", action="store_true", help="100 instances, for a smoke check")
    args = parser.parse_args()
    count = args.instances or (100 if args.quick else 1000)
    env = bench_environment()
    note(f"preparing {env['DATABASE_URL']} ...")
    try:
        prepare_database(env)
        os.environ.update(env)
        import django

        django.setup()
        from config.celery import app

        clean_up(app)
        with (
            tempfile.TemporaryDirectory(prefix="stepwise-bench-") as log_dir,
            celery_worker(app, env, Path(log_dir), concurrency=2),
        ):
            events, updates = measure(count)
    except BenchError as exc:
        note(f"\nbench/machines.py could not measure: {exc}")
        raise SystemExit(1) from None
    print(f"{count} instances of a two-state machine, one event each; worker prefork x2")
    print(f"  events applied            {count / events:9.0f} /s   ({events:.2f} s)")
    print(f"  plain row updates (base)  {count / updates:9.0f} /s   ({updates:.2f} s)")
    print(f"  events/s / updates/s      {updates / events:9.3f}x")


def measure(count: int) -> tuple[float, float]:
    from django.db import connection, transaction

    from engine.machines.instances import create_instance, send_event
    from engine.models import MachineEvent, MachineEventStatus, MachineInstance

    MachineInstance.objects.filter(machine="bench-switch").delete()
    note(f"creating {count} instances ...")
    instances = [create_instance("bench-switch", f"switch-{n}").pk for n in range(count)]
    wait_for(count, "the instances to start")

    note(f"sending {count} events at once ...")
    began = time.perf_counter()
    for pk in instances:
        send_event(pk, "flip")
    wait_for(2 * count, "the events to be applied")
    events = time.perf_counter() - began
    flipped = MachineInstance.objects.filter(machine="bench-switch", state="on").count()
    failed = MachineEvent.objects.filter(
        instance__machine="bench-switch", status=MachineEventStatus.FAILED
    ).count()
    if flipped != count or failed:
        raise BenchError(f"{flipped} of {count} switches flipped, {failed} events failed")

    note(f"{count} plain row updates ...")
    began = time.perf_counter()
    for pk in instances:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "UPDATE engine_machineinstance SET context = %s, updated_at = now() WHERE id = %s",
                ['{"flips": 1}', pk],
            )
    updates = time.perf_counter() - began
    MachineInstance.objects.filter(machine="bench-switch").delete()
    return events, updates


def wait_for(applied: int, what: str) -> None:
    from engine.models import MachineEvent, MachineEventStatus

    deadline = time.monotonic() + TIMEOUT
    done = 0
    while time.monotonic() < deadline:
        done = MachineEvent.objects.filter(
            instance__machine="bench-switch",
            status__in=[MachineEventStatus.APPLIED, MachineEventStatus.FAILED],
        ).count()
        print(f"\r{done}/{applied} applied", end="", file=sys.stderr)
        if done >= applied:
            print(file=sys.stderr)
            return
        time.sleep(0.1)
    raise BenchError(f"timed out waiting for {what}: {done} of {applied}")


if __name__ == "__main__":
    main()
