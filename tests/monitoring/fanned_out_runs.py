"""Fanned-out runs written straight into the journal, shaped as a worker journals them: cheap
to make with thousands of rows, for tests about the pages that show them."""

from datetime import timedelta

from django.utils import timezone

from engine.models import GraphVersion, Run, RunStatus, StepRecord
from tests.engine.graph.builders import document, edge, node

LOOP = document(
    [
        node("start", "trigger.manual"),
        node("each", "logic.loop", items="input.items", concurrency=50),
        node("work", "flow.transform", output="item"),
        node("done", "flow.transform", output="1"),
    ],
    [
        edge("start", "each"),
        edge("each", "work", "body"),
        edge("work", "each"),
        edge("each", "done", "done"),
    ],
)


def publish_loop(workflow: str = "fanned-out") -> str:
    GraphVersion.objects.create(
        workflow=workflow, number=1, title="Fanned out", graph=LOOP, published_at=timezone.now()
    )
    return workflow


def loop_run(
    workflow: str, items: int, *, wave: int = 50, failed: frozenset[int] = frozenset()
) -> Run:
    """A completed run of the loop: `start`, `each`, then the items in waves of `wave` (one
    parallel group each, `work[i]` its branches), then `done`. Items in `failed` failed and the
    loop went on (as with an error edge)."""
    began = timezone.now() - timedelta(minutes=5)
    # Made as a finished run, not started: a worker serving the suite must not run it.
    run = Run.objects.create(
        workflow=workflow,
        version="v1",
        kind="graph",
        status=RunStatus.COMPLETED,
        input={"items": list(range(items))},
        created_at=began,
        started_at=began,
    )
    at = began
    rows = []

    def add(seq: int, branch: int, kind: str, name: str, status: str, ms: int) -> None:
        rows.append(
            StepRecord(
                run=run,
                seq=seq,
                branch=branch,
                kind=kind,
                name=name,
                status=status,
                output={"value": name},
                error={"type": "ValueError", "message": f"{name} went wrong"}
                if status == "failed"
                else None,
                detail={"count": min(wave, items)} if kind == "parallel" else {},
                started_at=at,
                finished_at=at + timedelta(milliseconds=ms),
            )
        )

    add(0, 0, "step", "start", "completed", 2)
    add(1, 0, "step", "each", "completed", 2)
    seq = 2
    for first in range(0, items, wave):
        at += timedelta(milliseconds=5)
        members = range(first, min(first + wave, items))
        add(seq, 0, "parallel", "parallel", "completed", 40)
        for branch, index in enumerate(members, start=1):
            status = "failed" if index in failed else "completed"
            add(seq, branch, "step", f"work[{index}]", status, 3 + branch % 7)
        at += timedelta(milliseconds=40)
        seq += 1
    add(seq, 0, "step", "done", "completed", 2)
    StepRecord.objects.bulk_create(rows, batch_size=2000)
    Run.objects.filter(pk=run.pk).update(finished_at=at + timedelta(milliseconds=5))
    return Run.objects.get(pk=run.pk)
