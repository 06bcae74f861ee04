"""Deciding tasks: claims, decisions, and settling a task together with the run waiting on it.

A task's outcome is settled in the transaction that records the deciding decision, and the same
transaction completes the run's wait on it (engine.runtime.store.await_task finds a task that
settled before the run began waiting). A run learns a decision only from the task's own rows:
there is no event anyone could send instead. Lock order everywhere: the run, the task, then the
wait.
"""

from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from engine.core.journal import EntryKind, EntryStatus
from engine.core.task_forms import clean_form
from engine.human.audit import record_event
from engine.human.choices import DECIDED, DECISIONS
from engine.human.people import people_of
from engine.human.settled import run_settled_hooks
from engine.human.standing import NOT_YOURS, standing
from engine.human.tasks import TaskError, announce
from engine.human.visibility import seen_by
from engine.messaging.dispatch import wake
from engine.messaging.signals import announce_step
from engine.models import (
    HumanTask,
    Run,
    StepRecord,
    TaskDecision,
    TaskEventKind,
    TaskKind,
    TaskStatus,
    Timer,
)

MAX_COMMENT = 10_000


def decide_task(
    task_id: int,
    user: User,
    decision: Any,
    comment: Any = "",
    on_behalf_of: Any = None,
    form: Any = None,
) -> HumanTask:
    """Record one person's decision; settle the task once the decisions say how it ends.

    A refusal (not assigned, four-eyes, claimed by someone else, decided already) changes
    nothing but the task's history, which notes the refused attempt.
    """
    if not isinstance(comment, str) or len(comment) > MAX_COMMENT:
        raise TaskError(
            f"comment must be text of at most {MAX_COMMENT} characters", status=422, field="comment"
        )
    if on_behalf_of is not None and not isinstance(on_behalf_of, str):
        raise TaskError(
            "the user name of whoever delegated to you", status=422, field="on_behalf_of"
        )
    try:
        return _decide(task_id, user, decision, comment, on_behalf_of, form)
    except TaskError as refused:
        if refused.status == 403:
            _note_refusal(task_id, user, refused.message)
        raise


def _decide(
    task_id: int, user: User, decision: Any, comment: str, on_behalf_of: str | None, form: Any
) -> HumanTask:
    with transaction.atomic():
        task = _lock(task_id, user)
        allowed = DECISIONS[TaskKind(task.kind)]
        if decision not in allowed:
            raise TaskError(
                f"decision must be one of {', '.join(allowed)}", status=422, field="decision"
            )
        if task.status != TaskStatus.OPEN:
            raise TaskError(f"the task is already {task.get_status_display().lower()}", status=409)
        if decision in (task.comment_required or ()) and not comment.strip():
            raise TaskError(f"say why ({decision} needs a comment)", status=422, field="comment")
        try:
            # The form is what an approval asks to be filled in; other answers leave it.
            values = clean_form(task.form, form or {}) if decision == "approved" else {}
        except ValueError as invalid:
            field, _, message = str(invalid).partition(": ")
            raise TaskError(message, status=422, field=field) from None
        acting = standing(task, user, on_behalf_of or None)
        person = acting.counts_for
        # One answer per person, whether they gave it or a delegate gave it for them.
        if TaskDecision.objects.filter(task=task, user__in={person, user}).exists() or (
            TaskDecision.objects.filter(task=task, decided_by=user).exists()
        ):
            raise TaskError("this task already has your answer", status=409)
        TaskDecision.objects.create(
            task=task,
            user=person,
            decided_by=user if acting.on_behalf_of else None,
            decision=decision,
            comment=comment,
            form=values,
            decided_at=timezone.now(),
        )
        record_event(
            task,
            TaskEventKind.DECISION,
            actor=user,
            on_behalf_of=acting.on_behalf_of,
            note=comment,
            detail={"decision": decision},
        )
        outcome = _outcome(task)
        if outcome is None:
            announce(task, "decision")
            return task
        _settle(task, outcome)
    return task


def claim_task(task_id: int, user: User) -> HumanTask:
    """Take a group task for oneself: the rest of the group no longer sees it. Two claimers
    race on the row lock; the second is told who has it (409)."""
    with transaction.atomic():
        task = _lock(task_id, user)
        if task.status != TaskStatus.OPEN:
            raise TaskError(f"the task is already {task.get_status_display().lower()}", status=409)
        if task.claimed_by_id is not None:
            if task.claimed_by_id == user.pk:
                return task
            holder = task.claimed_by.get_username() if task.claimed_by else "someone"
            raise TaskError(f"{holder} has claimed this task already", status=409)
        acting = standing(task, user)
        task.claimed_by, task.claimed_at = acting.user, timezone.now()
        task.save(update_fields=["claimed_by", "claimed_at"])
        record_event(task, TaskEventKind.CLAIMED, actor=user, on_behalf_of=acting.on_behalf_of)
        announce(task, "claimed")
    return task


def unclaim_task(task_id: int, user: User, *, as_operator: bool = False) -> HumanTask:
    """Give a claimed task back to its group (its claimer, or an operator)."""
    with transaction.atomic():
        task = _lock(task_id, user)
        if task.claimed_by_id is None:
            raise TaskError("the task is not claimed", status=409)
        if task.claimed_by_id != user.pk and not as_operator:
            raise TaskError("only whoever claimed it (or an operator) lets it go", status=403)
        holder = task.claimed_by
        task.claimed_by, task.claimed_at = None, None
        task.save(update_fields=["claimed_by", "claimed_at"])
        record_event(task, TaskEventKind.UNCLAIMED, actor=user, on_behalf_of=holder)
        announce(task, "unclaimed")
    return task


def _lock(task_id: int, user: User) -> HumanTask:
    """The task, its run's row and its own locked, if `user` is one the task concerns
    (seen_by). Anyone else is refused first, the same way whatever the task's state: before,
    a stranger's decision or claim was told "the task is already rejected" and saw its title."""
    run_id = HumanTask.objects.filter(pk=task_id).values_list("run_id", flat=True).first()
    if run_id is None:
        raise TaskError(f"no task {task_id}", status=404)
    Run.objects.select_for_update().filter(pk=run_id).first()
    task = (
        HumanTask.objects.select_for_update(of=("self",))
        .select_related("run", "claimed_by")
        .get(pk=task_id)
    )
    if not seen_by(task, user):
        raise TaskError(NOT_YOURS, status=403)
    return task


def _note_refusal(task_id: int, user: User, reason: str) -> None:
    """A refused attempt changes nothing, but the task's history keeps it (written after the
    refused decision's transaction rolled back)."""
    task = HumanTask.objects.filter(pk=task_id).first()
    if task is not None:
        record_event(task, TaskEventKind.REFUSED, actor=user, note=reason)


def _outcome(task: HumanTask) -> str | None:
    decisions = list(task.decisions.values_list("decision", flat=True))
    if task.kind == TaskKind.APPROVAL:
        approvals = decisions.count("approved")
        if approvals >= task.required_approvals:
            return TaskStatus.APPROVED
        rejections = decisions.count("rejected")
        if rejections and task.any_rejection_rejects:
            return TaskStatus.REJECTED
        # Otherwise rejected only when too few people are left who could still approve.
        if (
            rejections
            and len(people_of(task)) - len(decisions) + approvals < task.required_approvals
        ):
            return TaskStatus.REJECTED
        return None
    if len(decisions) < task.required_approvals:
        return None
    if "rejected" in decisions:
        return TaskStatus.REJECTED
    return TaskStatus.CHANGES if "changes" in decisions else TaskStatus.APPROVED


def _settle(task: HumanTask, outcome: str) -> None:
    task.status = outcome
    task.decided_at = timezone.now()
    task.save(update_fields=["status", "decided_at"])
    record_event(task, TaskEventKind.SETTLED, detail={"outcome": outcome})
    complete_task_waits(task)
    run_settled_hooks(task)
    announce(task, "decided")


def complete_task_waits(task: HumanTask) -> None:
    """Inside the transaction that settled the task (its row locked): end the run's waits on
    it with the decision and wake the run."""
    waiting = StepRecord.objects.filter(
        run_id=task.run_id,
        kind=EntryKind.TASK,
        status=EntryStatus.WAITING,
        superseded=False,
        detail__task=task.pk,
    )
    outcome = task_outcome(task)
    now = timezone.now()
    for record in waiting:
        record.status, record.output, record.finished_at = EntryStatus.COMPLETED, outcome, now
        record.save(update_fields=["status", "output", "finished_at"])
        Timer.objects.filter(run_id=task.run_id, seq=record.seq).delete()
        announce_step(record)
        wake(task.run_id)


def settle_task_wait(record: StepRecord, task: HumanTask) -> None:
    """Inside a transaction with the task locked: a wait that begins or reaches its deadline
    takes the task's decision if it has one; at the deadline of a wait that `closes`, an open
    task is closed as timed out right here, so a decision and a timeout cannot both win."""
    now = timezone.now()
    if task.status in DECIDED:
        record.status, record.finished_at = EntryStatus.COMPLETED, now
        record.output = task_outcome(task)
        return
    due = record.wake_at is not None and now >= record.wake_at
    closes = bool((record.detail or {}).get("closes"))
    if task.status == TaskStatus.OPEN and due and closes:
        task.status, task.decided_at = TaskStatus.TIMED_OUT, now
        task.save(update_fields=["status", "decided_at"])
        record_event(task, TaskEventKind.CLOSED, detail={"status": str(TaskStatus.TIMED_OUT)})
        announce(task, "closed")
    if task.status != TaskStatus.OPEN or due:
        record.status, record.finished_at = EntryStatus.FAILED, now
        record.output = task_outcome(task)
        record.error = {"type": "TaskTimeout", "message": f"no decision on task {task.pk} in time"}


def task_outcome(task: HumanTask) -> dict[str, Any]:
    """What a run waiting on the task learns: {"task", "outcome", "decisions"}, read from the
    task's rows; a task closed without settling has the outcome "timeout" and lists the
    decisions taken before (a review some reviewers finished)."""
    return {
        "task": task.pk,
        "outcome": task.status if task.status in DECIDED else "timeout",
        "decisions": [
            {
                "user": decision.user.username,
                "decided_by": decision.decided_by.username if decision.decided_by else None,
                "decision": decision.decision,
                "comment": decision.comment,
                "form": decision.form or {},
                "decided_at": decision.decided_at.isoformat(),
            }
            for decision in task.decisions.select_related("user", "decided_by")
        ],
    }
