"""Durability under SIGKILL, and many waiting runs that hold no worker."""

import os
import random
import signal
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection, transaction

from config.celery import app as celery_app
from engine.inbound.events import deliver_event
from engine.models import Run, StepRecord
from engine.runtime.runs import create_run
from tests.processes import RunningProcess, start_process, wait_until, worker_args

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("side_effects_table"),
]

STEPS = 20
# The suite runs these small; `bench/durability.py` runs them full (STEPWISE_CHAOS_SCALE=full).
FULL = os.environ.get("STEPWISE_CHAOS_SCALE") == "full"
KILL_ROUNDS = 20 if FULL else 3
WAITING_RUNS = 10_000 if FULL else 300


def start_worker(
    env: dict[str, str], logs: Path, *, concurrency: int = 1, pool: str = "prefork"
) -> RunningProcess:
    name = f"crash-{uuid.uuid4().hex[:6]}@localhost"
    worker = start_process(
        name.split("@")[0],
        worker_args(
            settings.STEPWISE_QUEUE,
            hostname=name,
            concurrency=concurrency,
            pool=pool,
            loglevel="WARNING",
        ),
        env,
        logs,
    )
    wait_until(
        lambda: bool(celery_app.control.ping(destination=[name], timeout=0.5)),
        timeout=60,
        what=f"worker {name}",
        process=worker,
    )
    return worker


def kill_hard(worker: RunningProcess) -> None:
    # The whole process group: the master and its pool children die together, mid-step.
    os.killpg(worker.process.pid, signal.SIGKILL)
    worker.process.wait(10)


def effects_of(run: Run) -> dict[str, int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT step, executions FROM test_side_effects WHERE key LIKE %s",
            [f"stepwise:{run.pk}:%"],
        )
        return dict(cursor.fetchall())


@pytest.mark.timeout(600)
def test_sigkill_at_random_points_loses_and_repeats_no_effect(
    stepwise_env: dict[str, str],
    process_logs: Path,
    timer_loop: RunningProcess,
    queue_to_ourselves: None,
) -> None:
    rng = random.Random(2026)
    worker = start_worker(stepwise_env, process_logs)
    runs = []
    try:
        for round_ in range(KILL_ROUNDS):
            began = time.monotonic()
            with transaction.atomic():
                run = create_run("test-sequence", {"steps": STEPS, "pause": 0.02})
            runs.append(run)
            # Wait until the run is somewhere in its 20 steps, then kill the worker.
            target = rng.randint(1, STEPS - 1)
            wait_until(
                lambda run=run, target=target: StepRecord.objects.filter(run=run).count() >= target,
                timeout=30,
                what="the run to be under way",
            )
            time.sleep(rng.uniform(0, 0.02))
            kill_hard(worker)
            worker = start_worker(stepwise_env, process_logs)
            wait_until(
                lambda run=run: Run.objects.get(pk=run.pk).status == "completed",
                timeout=60,
                what=f"run {run.pk} to complete after the restart",
            )
            print(
                f"round {round_ + 1}: killed at step {target}, "
                f"completed in {time.monotonic() - began:.1f}s"
            )
    finally:
        worker.stop()

    re_executed = 0
    for run in runs:
        effects = effects_of(run)
        assert sorted(effects) == sorted(f"step-{n}" for n in range(1, STEPS + 1))
        re_executed += sum(count - 1 for count in effects.values())
        seqs = list(StepRecord.objects.filter(run=run).values_list("seq", flat=True))
        assert sorted(seqs) == list(range(STEPS))
        assert Run.objects.get(pk=run.pk).output == [f"step-{n}" for n in range(1, STEPS + 1)]
    # At least once: a step killed mid-way ran again, yet its effect exists once.
    print(f"{re_executed} step executions were repeated after kills; no effect was")


@pytest.mark.timeout(1200)
def test_many_waiting_runs_hold_no_worker(celery_worker: RunningProcess) -> None:
    count = WAITING_RUNS
    began = time.monotonic()
    with transaction.atomic():
        for n in range(count):
            create_run("test-wait-simple", {"n": n})
    wait_until(
        lambda: Run.objects.filter(workflow="test-wait-simple", status="waiting").count() == count,
        timeout=540,
        interval=1,
        what=f"{count} runs to wait",
        process=celery_worker,
    )
    print(f"{count} runs waiting after {time.monotonic() - began:.1f}s")
    active = celery_app.control.inspect(destination=[celery_worker.name], timeout=2).active()
    assert active == {celery_worker.name: []}, "a waiting run must not occupy the worker"
    assert not Run.objects.filter(workflow="test-wait-simple").exclude(lease_owner="").exists()

    began = time.monotonic()
    for n in range(count):
        deliver_event("Load.released", {"n": n}, event_id=f"load-{n}")
    print(f"{count} events delivered in {time.monotonic() - began:.1f}s")
    wait_until(
        lambda: (
            Run.objects.filter(workflow="test-wait-simple", status="completed").count() == count
        ),
        timeout=540,
        interval=1,
        what=f"{count} runs to complete",
        process=celery_worker,
    )
    assert set(
        Run.objects.filter(workflow="test-wait-simple").values_list("output", flat=True)
    ) == set(range(count))
