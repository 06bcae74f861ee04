"""Re-running a run with edited input, and forking it from one of its steps.

Both create a new run of the same workflow pinned to the original's version, linked to it by
`forked_from`. A re-run starts from nothing. A fork reuses the original's journal before
`from_seq`: those records are copied into the new run, which replays them (their recorded
outputs, whatever the input now is) and executes from `from_seq` on.

Why the copied prefix replays identically: replay matches each position by kind and name and
returns the recorded result without running the step, and a graph's interpreter chooses its
path only from journaled results. A code workflow that branches on its input *before* the fork
point may take another path with edited input: its fork fails at the first position that
differs, with the engine's non-determinism error (nothing runs twice).

Idempotency keys name the run (engine.core.context.idempotency_key), so every step the fork
executes carries a key of its own: a forked charge is a new charge, never deduplicated against
the original's. Steps before the fork point do not run at all.

Refused, with the reason: a run still active (its journal is still being written); a position
that is not one of the run's own (a step inside a parallel group: fork from its group); a
position after the one where the run stopped; a prefix holding something unsettled when the run
ended (a wait, a retry back-off, a cancellation), which the fork could only inherit half-done;
a position inside a person's task or at a child's result, which belong to the original; state
machine runs, which belong to their instance.
"""

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from engine.core.journal import EntryKind, EntryStatus
from engine.core.values import to_json_value
from engine.messaging.dispatch import advance_on_commit
from engine.messaging.signals import run_changed, send_on_commit
from engine.models import Run, RunStatus, StepRecord, Trigger
from engine.runtime.inputs import first_input_problem
from engine.runtime.limits import UNRATED_TRIGGERS, rate_refusal
from engine.runtime.resolving import UnknownWorkflow, resolve

KEEP_INPUT: Any = object()
"""fork_run(input=KEEP_INPUT): the fork reads the original's input."""

_SETTLED = frozenset({EntryStatus.COMPLETED, EntryStatus.FAILED})


@dataclass
class ForkRefused(Exception):
    """Nothing was created; `field` names what the caller should change."""

    field: str
    message: str
    status: int = 409

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


def rerun_run(run_id: int, input: Any, *, user: User | None = None) -> Run:
    """A new run of the same workflow and version with this input, linked to the original."""
    with transaction.atomic():
        original = _original(run_id)
        return _create(original, input, user, forked_at_seq=None)


def fork_run(
    run_id: int, from_seq: int, *, input: Any = KEEP_INPUT, user: User | None = None
) -> Run:
    """A new run that reuses the original's journal before `from_seq` and executes from there."""
    with transaction.atomic():
        original = _original(run_id)
        if original.status not in (
            RunStatus.COMPLETED,
            RunStatus.FAILED,
            RunStatus.CANCELLED,
            RunStatus.TIMED_OUT,
        ):
            raise ForkRefused(
                "run", f"run {run_id} is {original.status}: only an ended run can be forked"
            )
        prefix = _prefix(original, from_seq)
        new_input = original.input if input is KEEP_INPUT else input
        fork = _create(original, new_input, user, forked_at_seq=from_seq)
        StepRecord.objects.bulk_create([_copy(record, fork) for record in prefix], batch_size=500)
    return fork


def _original(run_id: int) -> Run:
    # Locked so that a fork and a retry of the original do not read a journal in motion.
    original = Run.objects.select_for_update().filter(pk=run_id).first()
    if original is None:
        raise ForkRefused("run", f"no run {run_id}", status=404)
    if original.trigger == Trigger.MACHINE:
        raise ForkRefused(
            "run", "a state machine's run belongs to its instance: send the instance an event"
        )
    return original


def _prefix(original: Run, from_seq: int) -> list[StepRecord]:
    own = {
        record.seq: record
        for record in StepRecord.objects.filter(run=original, branch=0, superseded=False).order_by(
            "seq", "attempt"
        )
    }
    if from_seq not in own:
        known = f"0 to {max(own)}" if own else "none: the run recorded no step"
        raise ForkRefused(
            "from_seq", f"run {original.pk} has no step at position {from_seq} (positions: {known})"
        )
    if original.stopped_at is not None and from_seq > original.stopped_at:
        raise ForkRefused(
            "from_seq",
            f"the run stopped at position {original.stopped_at}; positions after it were its "
            "undo and failure handling: fork from it or before",
        )
    _refuse_waiting_on_the_original(own, from_seq)
    records = list(
        StepRecord.objects.filter(run=original, seq__lt=from_seq, superseded=False).order_by(
            "seq", "branch", "attempt"
        )
    )
    for seq, record in own.items():
        if seq < from_seq and record.status not in _SETTLED:
            raise ForkRefused(
                "from_seq",
                f"position {seq} ({record.name}) was {record.status} when the run ended; a fork "
                f"cannot inherit it half-done: fork from {seq} or before",
            )
    return records


def _refuse_waiting_on_the_original(own: dict[int, StepRecord], from_seq: int) -> None:
    """A task opened before the fork point belongs to the original run (decided, or closed when
    it ended), and so does a child it started: a fork from one of their waits would only repeat
    the original's outcome, or act on its task. The position that opened the task or started
    the child is the one to fork from."""
    opened: dict[int, int] = {}
    last_wait: dict[int, int] = {}
    for seq, record in own.items():
        task = _task_opened_by(record)
        if task is not None:
            opened.setdefault(task, seq)
        if record.kind == EntryKind.TASK and isinstance(record.detail, dict):
            waited = record.detail.get("task")
            if isinstance(waited, int):
                last_wait[waited] = seq
    for task, start in opened.items():
        end = last_wait.get(task)
        if end is not None and start < from_seq <= end:
            raise ForkRefused(
                "from_seq",
                f"position {from_seq} is inside task {task}'s wait, which belongs to the "
                f"original run; fork from the step that opened it ({start}) to ask again",
            )
    record = own[from_seq]
    if record.kind == EntryKind.CHILD_RESULT:
        started = next(
            (
                seq
                for seq, other in own.items()
                if other.kind == EntryKind.CHILD_START and other.child_run_id == record.child_run_id
            ),
            None,
        )
        raise ForkRefused(
            "from_seq",
            f"position {from_seq} waits for the original run's child run "
            f"{record.child_run_id}; fork from where it started ({started}) to start it again",
        )


def _task_opened_by(record: StepRecord) -> int | None:
    """The task a step opened: `{"task": id}` from code, `{"output": {"task": id}}` from a node."""
    if record.kind != EntryKind.STEP or not isinstance(record.output, dict):
        return None
    output = record.output
    nested = output.get("output")
    task = nested.get("task") if isinstance(nested, dict) else output.get("task")
    return task if isinstance(task, int) else None


def _copy(record: StepRecord, fork: Run) -> StepRecord:
    """The record as it was, now the fork's; a child it names stays the original's child."""
    return StepRecord(
        run=fork,
        seq=record.seq,
        branch=record.branch,
        attempt=record.attempt,
        kind=record.kind,
        name=record.name,
        status=record.status,
        output=record.output,
        error=record.error,
        detail=record.detail,
        logs=record.logs,
        child_run_id=record.child_run_id,
        started_at=record.started_at,
        finished_at=record.finished_at,
    )


def _create(original: Run, input: Any, user: User | None, *, forked_at_seq: int | None) -> Run:
    try:
        resolved = resolve(original.workflow, original.version)
    except UnknownWorkflow:
        raise ForkRefused("run", f"workflow {original.workflow!r} no longer exists") from None
    if resolved.version != original.version:
        raise ForkRefused(
            "run",
            f"run {original.pk} ran version {original.version} of {original.workflow!r}; this "
            f"server runs version {resolved.version} and cannot run the old one",
        )
    try:
        input = to_json_value(input)
    except TypeError as not_json:
        raise ForkRefused("input", str(not_json), status=422) from None
    schema = resolved.definition.input_schema
    if schema is not None:
        problem = first_input_problem(schema, input)
        if problem is not None:
            raise ForkRefused(problem.field, problem.message, status=422)
    now = timezone.now()
    # The trigger stays the original's: a graph starts at the trigger node that fits it, and a
    # fork must walk the same path through its copied prefix.
    if original.trigger not in UNRATED_TRIGGERS:
        refusal = rate_refusal(original.workflow, now)
        if refusal is not None:
            raise ForkRefused("run", str(refusal.get("message")), status=429)
    what = "re-run" if forked_at_seq is None else f"fork from step {forked_at_seq}"
    run = Run.objects.create(
        workflow=original.workflow,
        kind=resolved.kind,
        version=original.version,
        input=input,
        status=RunStatus.PENDING,
        trigger=original.trigger,
        trigger_ref=f"{what} of run {original.pk}",
        depth=original.depth,
        created_by=user,
        created_at=now,
        dispatched_at=now,
        forked_from=original,
        forked_at_seq=forked_at_seq,
    )
    advance_on_commit(run.pk)
    send_on_commit(run_changed, run_id=run.pk, workflow=run.workflow, status=run.status)
    return run
