"""Retention: ended runs past their workflow's retention go, with their journal, in batches;
active runs, recent runs, workflows kept for ever and runs holding a machine state's open task
stay; an export writes what is deleted as JSON lines first."""

import json
from datetime import timedelta
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from engine.models import HumanTask, MachineInstance, Run, RunStatus, StepRecord, Timer
from engine.runtime.retention import Retention, RetentionSweeper, parse_overrides, prune_batch
from engine.runtime.timers import _sweepers

pytestmark = pytest.mark.django_db


def run(workflow: str, status: str, days_ago: float | None, steps: int = 2) -> Run:
    now = timezone.now()
    finished = now - timedelta(days=days_ago) if days_ago is not None else None
    made = Run.objects.create(
        workflow=workflow,
        version="1",
        status=status,
        input={"n": 1},
        created_at=(finished or now) - timedelta(minutes=1),
        finished_at=finished,
    )
    for seq in range(steps):
        StepRecord.objects.create(
            run=made, seq=seq, kind="step", name=f"s{seq}", status="completed",
            output={"seq": seq}, started_at=made.created_at, finished_at=finished,
        )  # fmt: skip
    return made


def test_only_ended_runs_past_their_retention_go_with_their_journal() -> None:
    old = run("billing", RunStatus.COMPLETED, 40)
    failed = run("billing", RunStatus.FAILED, 31)
    recent = run("billing", RunStatus.COMPLETED, 5)
    waiting = run("billing", RunStatus.WAITING, None)
    Timer.objects.create(run=waiting, kind="wake", due_at=timezone.now())
    kept_long = run("audit", RunStatus.COMPLETED, 300)
    short = run("sync", RunStatus.COMPLETED, 2)
    retention = Retention(30, parse_overrides(["audit=0", "sync=1"]))

    assert prune_batch(retention) == 3
    assert set(Run.objects.values_list("pk", flat=True)) == {recent.pk, waiting.pk, kept_long.pk}
    assert not StepRecord.objects.filter(run_id__in=[old.pk, failed.pk, short.pk]).exists()
    assert StepRecord.objects.filter(run=recent).count() == 2
    assert Timer.objects.filter(run=waiting).exists()
    assert prune_batch(retention) == 0


def test_batches_are_small_and_the_oldest_go_first() -> None:
    runs = [run("billing", RunStatus.COMPLETED, 100 - n, steps=1) for n in range(7)]
    retention = Retention(30, {})
    assert prune_batch(retention, batch=3) == 3
    left = set(Run.objects.values_list("pk", flat=True))
    assert left == {r.pk for r in runs[3:]}


def test_a_run_holding_a_machine_states_open_task_stays(make_user: Any) -> None:
    holder = run("stepwise-machine-event", RunStatus.COMPLETED, 90)
    instance = MachineInstance.objects.create(
        machine="expense", version=1, key="e-1", state="submitted", context={},
        entered_at=timezone.now(), created_at=timezone.now(), updated_at=timezone.now(),
    )  # fmt: skip
    HumanTask.objects.create(
        run=holder, step_name="entry submitted: human.approval", kind="approval",
        title="Expense", created_at=timezone.now(), machine_instance=instance,
        machine_state="submitted",
    )  # fmt: skip
    assert prune_batch(Retention(30, {})) == 0
    HumanTask.objects.update(status="approved")
    assert prune_batch(Retention(30, {})) == 1


def test_the_export_holds_each_deleted_run_and_its_steps(tmp_path: Path) -> None:
    old = run("billing", RunStatus.FAILED, 45, steps=3)
    out = StringIO()
    call_command("prune_runs", "--days", "30", "--export", str(tmp_path / "gone.jsonl"), stdout=out)
    assert "Deleted 1 run(s)" in out.getvalue()
    lines = (tmp_path / "gone.jsonl").read_text().splitlines()
    exported = json.loads(lines[0])
    assert len(lines) == 1 and exported["id"] == old.pk and exported["status"] == "failed"
    assert [step["seq"] for step in exported["steps"]] == [0, 1, 2]
    assert not Run.objects.filter(pk=old.pk).exists()


def test_bad_settings_and_arguments_are_named() -> None:
    with pytest.raises(ValueError, match="STEPWISE_RETENTION_OVERRIDES: 'audit'"):
        parse_overrides(["audit"])
    with pytest.raises(CommandError, match="--days"):
        call_command("prune_runs", "--days", "0")


def test_the_timer_loop_prunes_through_its_sweeper(settings: Any, tmp_path: Path) -> None:
    assert isinstance(_sweepers["retention"], RetentionSweeper)
    settings.STEPWISE_RETENTION_DAYS = 30
    settings.STEPWISE_RETENTION_EXPORT_DIR = str(tmp_path)
    old = run("billing", RunStatus.COMPLETED, 60)
    sweeper = RetentionSweeper()
    assert sweeper() == 1
    assert not Run.objects.filter(pk=old.pk).exists()
    assert len(list(tmp_path.glob("runs-*.jsonl"))) == 1
    run("billing", RunStatus.COMPLETED, 60)
    assert sweeper() == 0  # a short batch: the next sweep waits its interval
