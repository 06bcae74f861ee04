"""The folded timeline read from PostgreSQL's summary (load_folded_timeline, load_items)
answers exactly what laying out every journal row answers: the same rows, groups, counts,
spans, first errors and verdict, the same map beside it and the same pages of items, for
finished, running, retried, superseded, internal and code-style fan-outs."""

from dataclasses import asdict
from datetime import timedelta

import pytest
from django.utils import timezone

from engine.models import Run, RunStatus, StepRecord
from engine.runtime.masking import NO_MASK
from monitoring.run_map import run_map
from monitoring.run_timeline import load_folded_timeline, load_items, load_timeline
from tests.monitoring.fanned_out_runs import loop_run, publish_loop

pytestmark = pytest.mark.django_db


def assert_same(run: Run, *, internal: bool = False, groups: int = 1) -> None:
    run = Run.objects.get(pk=run.pk)
    now = timezone.now()
    every = load_timeline(run, show_internal=internal, now=now)
    summed = load_folded_timeline(run, show_internal=internal, now=now)
    expected = every.answer(NO_MASK, folded=True)
    assert expected["groups"] == groups  # the case folds what it means to
    assert summed.answer(NO_MASK, folded=True) == expected
    assert summed.verdict == every.verdict
    assert [asdict(step) for step in run_map(run, summed.timeline).steps] == [
        asdict(step) for step in run_map(run, every.timeline).steps
    ]
    folds = [row["group"] for row in expected["rows"] if row.get("kind") == "group"]
    for fold in folds:
        for offset, limit, status in ((0, 50, None), (37, 20, None), (0, 3, "failed")):
            page = load_items(
                run, fold, offset=offset, limit=limit, status=status, show_internal=internal
            )
            laid_out = every.items_json(fold, offset=offset, limit=limit, status=status)
            assert page == laid_out, (fold, offset, status)


def test_a_finished_loop_with_failures() -> None:
    assert_same(loop_run(publish_loop(), 130, failed=frozenset({3, 64, 129})))


def test_a_running_loop_with_retries_waits_and_queued_items() -> None:
    run = loop_run(publish_loop(), 200, failed=frozenset({11}))
    later = timezone.now() + timedelta(minutes=10)
    items = StepRecord.objects.filter(run=run, branch__gt=0)
    items.filter(name__in=["work[190]", "work[191]"]).update(status="running", finished_at=None)
    items.filter(name="work[192]").update(status="queued", finished_at=None)
    items.filter(name="work[193]").update(kind="wait", status="waiting", finished_at=None)
    retried = items.get(name="work[150]")
    retried.status, retried.retry_at = "retrying", later
    retried.error = {"type": "OSError", "message": "503"}
    retried.save()
    again = items.get(name="work[20]")
    StepRecord.objects.filter(pk=again.pk).update(status="retrying", retry_at=again.finished_at)
    StepRecord.objects.create(
        run=run,
        seq=again.seq,
        branch=again.branch,
        attempt=2,
        kind="step",
        name="work[20]",
        status="completed",
        started_at=again.finished_at + timedelta(milliseconds=4),
        finished_at=again.finished_at + timedelta(milliseconds=9),
    )
    StepRecord.objects.filter(run=run, name="done").delete()
    last_wave = StepRecord.objects.filter(run=run, kind="parallel").order_by("-seq")[0]
    StepRecord.objects.filter(pk=last_wave.pk).update(status="waiting", finished_at=None)
    Run.objects.filter(pk=run.pk).update(status=RunStatus.RUNNING, finished_at=None)
    assert_same(run)
    # Each thing the verdict could name in turn: an item's open wait, the wave's, a running item.
    StepRecord.objects.filter(run=run, status="retrying").update(status="completed")
    assert_same(run)
    items.filter(name="work[193]").update(kind="step", status="running")
    assert_same(run)
    StepRecord.objects.filter(pk=last_wave.pk).update(status="completed", finished_at=later)
    assert_same(run)


def test_superseded_items_internal_values_and_a_folded_parallel_group() -> None:
    run = loop_run(publish_loop(), 60, wave=60)
    StepRecord.objects.filter(run=run, seq=2).update(superseded=True)
    began = run.started_at
    assert began is not None
    StepRecord.objects.bulk_create(
        [
            StepRecord(
                run=run,
                seq=2 if index < 30 else 4,
                branch=index % 30 + 1,
                kind="value" if index % 7 == 0 else "step",
                name="send",
                status="completed",
                started_at=began + timedelta(seconds=index),
                finished_at=began + timedelta(seconds=index, milliseconds=5),
            )
            for index in range(60)
        ]
        + [
            StepRecord(
                run=run,
                seq=seq,
                branch=0,
                kind="parallel",
                name="parallel",
                status="completed",
                detail={"count": 30},
                started_at=began + timedelta(seconds=seq),
                finished_at=began + timedelta(seconds=seq + 40),
            )
            for seq in (2, 4)
        ]
        + [
            StepRecord(
                run=run,
                seq=5 + index,
                branch=0,
                kind="value",
                name="now",
                status="completed",
                started_at=began + timedelta(seconds=50 + index),
                finished_at=began + timedelta(seconds=50 + index),
            )
            for index in range(3)
        ]
    )
    StepRecord.objects.filter(run=run, name="done").update(seq=9)
    assert_same(run, groups=3)
    assert_same(run, internal=True, groups=3)


def test_a_code_loop_on_the_runs_own_lane() -> None:
    run = loop_run(publish_loop(), 40, wave=1)
    # One item after another on the main lane, named as a code workflow's loop names them.
    StepRecord.objects.filter(run=run, kind="parallel").delete()
    StepRecord.objects.filter(run=run, branch__gt=0).update(branch=0, kind="step")
    Run.objects.filter(pk=run.pk).update(kind="code")
    assert_same(run)


def test_a_loop_that_ended_while_items_waited_and_backed_off() -> None:
    run = loop_run(publish_loop(), 80, failed=frozenset({7}))
    assert run.finished_at is not None
    items = StepRecord.objects.filter(run=run, branch__gt=0)
    items.filter(name="work[60]").update(
        status="retrying", retry_at=run.finished_at + timedelta(minutes=5), error={"type": "E"}
    )
    items.filter(name="work[61]").update(kind="wait", status="waiting", finished_at=None)
    items.filter(name="work[62]").update(status="running", finished_at=None)
    Run.objects.filter(pk=run.pk).update(status=RunStatus.TIMED_OUT)
    assert_same(run)


def test_a_loop_stopped_and_retried_twice() -> None:
    """What each stop cut (an item's wait, a back-off) and the queueing from each retry."""
    run = loop_run(publish_loop(), 80)
    began = run.started_at
    assert began is not None

    def stop(ended_ms: int, retried_ms: int) -> dict[str, str]:
        ended, retried = (began + timedelta(milliseconds=ms) for ms in (ended_ms, retried_ms))
        return {"ended": ended.isoformat(), "retried": retried.isoformat()}

    items = StepRecord.objects.filter(run=run, branch__gt=0)
    # The first wave's items were taken up after the first retry, 5 ms after their dispatch.
    items.filter(seq=2).update(
        started_at=began + timedelta(milliseconds=10),
        finished_at=began + timedelta(milliseconds=13),
    )
    items.filter(name="work[5]").update(kind="wait", status="waiting", finished_at=None)
    items.filter(name="work[6]").update(
        status="retrying", retry_at=began + timedelta(minutes=5), error={"type": "E"}
    )
    items.filter(name="work[7]").update(status="running", finished_at=None, superseded=True)
    Run.objects.filter(pk=run.pk).update(
        status=RunStatus.RUNNING, finished_at=None, stops=[stop(6, 8), stop(30, 31)]
    )
    assert_same(run)
