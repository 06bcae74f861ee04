"""Human tasks: approvals and reviews a run waits for, decided only by their assignees.

A task's outcome is settled here, in the transaction that records the deciding decision, and
the same transaction completes the run's wait on it (engine.store.await_task checks a task
that settled before the run began waiting). A run learns a decision only from the task's own
rows: there is no event anyone could send instead.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import Group, User
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from engine.core.errors import NonRetryableError
from engine.core.journal import EntryKind, EntryStatus
from engine.dispatch import wake
from engine.models import HumanTask, Run, StepRecord, TaskDecision, TaskKind, TaskStatus, Timer
from engine.signals import announce_step, send_on_commit, task_changed

DECISIONS = {
    TaskKind.APPROVAL: ("approved", "rejected"),
    TaskKind.REVIEW: ("approved", "changes", "rejected"),
}
DECIDED = (TaskStatus.APPROVED, TaskStatus.CHANGES, TaskStatus.REJECTED)


class TaskError(ValueError):
    """A decision that cannot be taken; `status` is the HTTP status an API answers with."""

    def __init__(self, message: str, *, status: int, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.field = field


class UnknownAssignee(ValueError):
    pass


@dataclass(frozen=True)
class Assignees:
    users: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()

    @classmethod
    def from_config(cls, value: Any) -> "Assignees":
        value = value or {}
        return cls(tuple(value.get("users", ())), tuple(value.get("groups", ())))


def _resolve(assignees: Assignees) -> tuple[list[User], list[Group]]:
    users = list(User.objects.filter(username__in=assignees.users, is_active=True))
    groups = list(Group.objects.filter(name__in=assignees.groups))
    missing = sorted(set(assignees.users) - {user.username for user in users}) + sorted(
        set(assignees.groups) - {group.name for group in groups}
    )
    if missing:
        raise UnknownAssignee(f"no active user or group called {', '.join(map(repr, missing))}")
    return users, groups


def open_task(
    *,
    run_id: int,
    step_name: str,
    kind: TaskKind,
    title: str,
    description: str = "",
    data: dict[str, Any] | None = None,
    assignees: Assignees,
    required: int = 1,
    due_at: datetime | None = None,
) -> HumanTask:
    """Create the task a step waits for; a retried step gets the task it created before."""
    users, groups = _resolve(assignees)
    with transaction.atomic():
        task, created = HumanTask.objects.get_or_create(
            run_id=run_id,
            step_name=step_name,
            defaults={
                "kind": kind,
                "title": title[:300],
                "description": description,
                "data": data or {},
                "required_approvals": max(1, required),
                "created_at": timezone.now(),
                "due_at": due_at,
            },
        )
        if created:
            task.assignees.set(users)
            task.assigned_groups.set(groups)
            _announce(task, "created")
    return task


def tasks_for(user: User) -> QuerySet[HumanTask]:
    """Tasks assigned to the user, directly or through one of their groups (the inbox)."""
    return (
        HumanTask.objects.filter(Q(assignees=user) | Q(assigned_groups__in=user.groups.all()))
        .distinct()
        .order_by("-created_at", "-pk")
    )


def is_assignee(task: HumanTask, user: User) -> bool:
    if task.assignees.filter(pk=user.pk).exists():
        return True
    return task.assigned_groups.filter(pk__in=user.groups.values("pk")).exists()


def decide_task(task_id: int, user: User, decision: Any, comment: Any = "") -> HumanTask:
    """Record one assignee's decision; settle the task once the decisions say how it ends."""
    if not isinstance(comment, str):
        raise TaskError("comment must be text", status=422, field="comment")
    with transaction.atomic():
        run_id = HumanTask.objects.filter(pk=task_id).values_list("run_id", flat=True).first()
        if run_id is None:
            raise TaskError(f"no task {task_id}", status=404)
        # Lock order, as where a run's wait on the task ends at its deadline: the run, the
        # task, then the wait (completed below).
        Run.objects.select_for_update().filter(pk=run_id).first()
        task = HumanTask.objects.select_for_update().get(pk=task_id)
        if not is_assignee(task, user):
            raise TaskError("only the task's assignees may decide it", status=403)
        allowed = DECISIONS[TaskKind(task.kind)]
        if decision not in allowed:
            raise TaskError(
                f"decision must be one of {', '.join(allowed)}", status=422, field="decision"
            )
        if task.status != TaskStatus.OPEN:
            raise TaskError(f"the task is already {task.get_status_display().lower()}", status=409)
        if task.decisions.filter(user=user).exists():
            raise TaskError("you have already decided this task", status=409)
        TaskDecision.objects.create(
            task=task, user=user, decision=decision, comment=comment, decided_at=timezone.now()
        )
        outcome = _outcome(task)
        if outcome is None:
            _announce(task, "decision")
            return task
        _settle(task, outcome)
    return task


def _outcome(task: HumanTask) -> str | None:
    decisions = list(task.decisions.values_list("decision", flat=True))
    if task.kind == TaskKind.APPROVAL:
        if "rejected" in decisions:
            return TaskStatus.REJECTED
        return (
            TaskStatus.APPROVED if decisions.count("approved") >= task.required_approvals else None
        )
    if len(decisions) < task.required_approvals:
        return None
    if "rejected" in decisions:
        return TaskStatus.REJECTED
    return TaskStatus.CHANGES if "changes" in decisions else TaskStatus.APPROVED


def _settle(task: HumanTask, outcome: str) -> None:
    task.status = outcome
    task.decided_at = timezone.now()
    task.save(update_fields=["status", "decided_at"])
    complete_task_waits(task)
    _announce(task, "decided")


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
        record.status, record.output, record.finished_at = (
            EntryStatus.COMPLETED,
            task_outcome(task),
            now,
        )
        return
    due = record.wake_at is not None and now >= record.wake_at
    closes = bool((record.detail or {}).get("closes"))
    if task.status == TaskStatus.OPEN and due and closes:
        task.status, task.decided_at = TaskStatus.TIMED_OUT, now
        task.save(update_fields=["status", "decided_at"])
        _announce(task, "closed")
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
                "decision": decision.decision,
                "comment": decision.comment,
                "decided_at": decision.decided_at.isoformat(),
            }
            for decision in task.decisions.select_related("user")
        ],
    }


def close_task(task_id: int, status: TaskStatus) -> HumanTask:
    """End an open task without a decision (timed out, or its run was cancelled)."""
    with transaction.atomic():
        task = HumanTask.objects.select_for_update().get(pk=task_id)
        if task.status == TaskStatus.OPEN:
            task.status = status
            task.decided_at = timezone.now()
            task.save(update_fields=["status", "decided_at"])
            _announce(task, "closed")
    return task


def mark_reminded(task_id: int) -> list[str]:
    """Note the reminder and return the e-mail addresses of the people to remind."""
    with transaction.atomic():
        task = HumanTask.objects.select_for_update().get(pk=task_id)
        task.reminded_at = timezone.now()
        task.save(update_fields=["reminded_at"])
        _announce(task, "reminded")
    return sorted({user.email for user in _people(task) if user.email})


def escalate(task_id: int, assignees: Assignees) -> HumanTask:
    users, groups = _resolve(assignees)
    with transaction.atomic():
        task = HumanTask.objects.select_for_update().get(pk=task_id)
        if task.escalated_at is None:
            task.assignees.add(*users)
            task.assigned_groups.add(*groups)
            task.escalated_at = timezone.now()
            task.save(update_fields=["escalated_at"])
            _announce(task, "escalated")
    return task


def cancel_open_tasks(run_ids: Iterable[int]) -> None:
    for task_id in HumanTask.objects.filter(
        run_id__in=list(run_ids), status=TaskStatus.OPEN
    ).values_list("pk", flat=True):
        close_task(task_id, TaskStatus.CANCELLED)


def reopen_cancelled_tasks(run_id: int) -> None:
    """Open again the tasks a run's end cancelled, for a retried run that waits on them."""
    for task in HumanTask.objects.select_for_update().filter(
        run_id=run_id, status=TaskStatus.CANCELLED
    ):
        task.status = TaskStatus.OPEN
        task.decided_at = None
        task.save(update_fields=["status", "decided_at"])
        _announce(task, "reopened")


def _people(task: HumanTask) -> list[User]:
    direct = set(task.assignees.all())
    grouped = set(User.objects.filter(groups__in=task.assigned_groups.all(), is_active=True))
    return sorted(direct | grouped, key=lambda user: user.pk)


def _announce(task: HumanTask, what: str) -> None:
    send_on_commit(
        task_changed,
        task_id=task.pk,
        run_id=task.run_id,
        kind=task.kind,
        status=task.status,
        event=what,
    )


# --- what the task steps of engine.core.human do ------------------------------------------
class DjangoTaskService:
    """Tasks in the database, for the steps of `approval()`, `review()` and the human nodes."""

    def open(
        self,
        *,
        run_id: int,
        step_name: str,
        kind: str,
        title: str,
        description: str,
        data: dict[str, Any],
        assignees: dict[str, Any],
        required: int,
        timeout_seconds: float | None,
    ) -> int:
        now = timezone.now()
        try:
            task = open_task(
                run_id=run_id,
                step_name=step_name,
                kind=TaskKind(kind),
                title=title,
                description=description,
                data=data,
                assignees=Assignees.from_config(assignees),
                required=required,
                due_at=now + timedelta(seconds=timeout_seconds) if timeout_seconds else None,
            )
        except UnknownAssignee as unknown:
            raise NonRetryableError(str(unknown)) from None
        return int(task.pk)

    def remind(self, task_id: int) -> dict[str, Any]:
        recipients = mark_reminded(task_id)
        task = HumanTask.objects.get(pk=task_id)
        if recipients:
            send_mail(
                f"Reminder: {task.title}",
                f"A {task.kind} is waiting for you in the Stepwise inbox: {task.title}",
                None,
                recipients,
            )
        return {"task": task_id, "reminded": recipients}

    def escalate(self, task_id: int, people: dict[str, Any]) -> dict[str, Any]:
        escalate(task_id, Assignees.from_config(people))
        return {"task": task_id, "escalated_to": people}

    def close(self, task_id: int, status: str) -> dict[str, Any]:
        task = close_task(task_id, TaskStatus(status))
        return {"task": task_id, "status": task.status}
