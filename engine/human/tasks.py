"""Opening, chasing and closing tasks: the lifecycle around the decisions (engine.human.deciding).

Every change here is one transaction with the task's row locked, written to its history and
announced after commit.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import Group, User
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from engine.core.calendar import business_calendar
from engine.human.audit import record_event
from engine.human.notify import assigned_on_commit, escalated_on_commit, reassigned_on_commit
from engine.human.people import still_to_answer
from engine.messaging.signals import send_on_commit, task_changed
from engine.models import HumanTask, TaskEventKind, TaskKind, TaskStatus


class TaskError(ValueError):
    """A task action that cannot be taken; `status` is the HTTP status an API answers with."""

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

    def as_json(self) -> dict[str, list[str]]:
        return {"users": list(self.users), "groups": list(self.groups)}


def resolve_people(assignees: Assignees) -> tuple[list[User], list[Group]]:
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
    requester: str | None = None,
    distinct_from: Iterable[str] = (),
    any_rejection_rejects: bool = True,
    form: dict[str, Any] | None = None,
    comment_required: Iterable[str] = (),
    clock: dict[str, Any] | None = None,
) -> HumanTask:
    """Create the task a step waits for; a retried step gets the task it created before.

    `requester` names a person (besides whoever started the run) who may not decide it; an
    unknown name excludes nobody, as nobody can log in as them.
    """
    users, groups = resolve_people(assignees)
    named = User.objects.filter(username=requester).first() if requester else None
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
                "requester": named,
                "distinct_from": sorted(set(distinct_from)),
                "any_rejection_rejects": any_rejection_rejects,
                "form": form or {},
                "comment_required": sorted(set(comment_required)),
                **_clock_fields(due_at, clock or {}),
            },
        )
        if created:
            task.assignees.set(users)
            task.assigned_groups.set(groups)
            record_event(task, TaskEventKind.CREATED, detail=assignees.as_json())
            announce(task, "created")
            assigned_on_commit(task, still_to_answer(task))
    return task


def _clock_fields(due_at: datetime | None, clock: dict[str, Any]) -> dict[str, Any]:
    """When the reminder, the escalation (at the due date) and the end will come."""
    now = timezone.now()
    reminder, escalation = clock.get("reminder_seconds"), clock.get("escalation_seconds")
    escalate_to = clock.get("escalate_to") or {}
    calendar = business_calendar(clock["calendar"]) if clock.get("calendar") else None

    def after(moment: datetime, seconds: float) -> datetime:
        return calendar.add(moment, seconds) if calendar else moment + timedelta(seconds=seconds)

    expires_at = due_at
    if due_at is not None and escalate_to and escalation:
        expires_at = after(due_at, float(escalation))
    return {
        "remind_at": after(now, float(reminder)) if reminder else None,
        "escalate_to": escalate_to if due_at is not None else {},
        "expires_at": expires_at,
    }


def close_task(task_id: int, status: TaskStatus, *, by: User | None = None) -> HumanTask:
    """End an open task without a decision (timed out, withdrawn, or its run ended)."""
    with transaction.atomic():
        task = HumanTask.objects.select_for_update().get(pk=task_id)
        if task.status == TaskStatus.OPEN:
            task.status = status
            task.decided_at = timezone.now()
            task.save(update_fields=["status", "decided_at"])
            record_event(task, TaskEventKind.CLOSED, actor=by, detail={"status": str(status)})
            announce(task, "closed")
    return task


def mark_reminded(task_id: int) -> list[str]:
    """Note the reminder and return the e-mail addresses of the people to remind."""
    with transaction.atomic():
        task = HumanTask.objects.select_for_update().get(pk=task_id)
        task.reminded_at = timezone.now()
        task.save(update_fields=["reminded_at"])
        # Nobody is reminded of what they answered already, or may not answer.
        recipients = sorted({user.email for user in still_to_answer(task) if user.email})
        record_event(task, TaskEventKind.REMINDED, detail={"recipients": recipients})
        announce(task, "reminded")
    return recipients


def escalate(task_id: int, assignees: Assignees) -> HumanTask:
    """Add the escalation's people to a task that waited too long (once)."""
    users, groups = resolve_people(assignees)
    with transaction.atomic():
        task = HumanTask.objects.select_for_update().get(pk=task_id)
        if task.escalated_at is None:
            before = still_to_answer(task)
            task.assignees.add(*users)
            task.assigned_groups.add(*groups)
            task.escalated_at = timezone.now()
            task.save(update_fields=["escalated_at"])
            record_event(task, TaskEventKind.ESCALATED, detail=assignees.as_json())
            announce(task, "escalated")
            escalated_on_commit(task, before=before, after=still_to_answer(task))
    return task


def reassign(task_id: int, assignees: Any, by: User, note: str = "") -> HumanTask:
    """An operator gives an open task to other people; a claim on it ends."""
    if not isinstance(assignees, dict) or not (assignees.get("users") or assignees.get("groups")):
        raise TaskError("name at least one user or group", status=422, field="assignees")
    people = Assignees.from_config(assignees)
    try:
        users, groups = resolve_people(people)
    except UnknownAssignee as unknown:
        raise TaskError(str(unknown), status=422, field="assignees") from None
    with transaction.atomic():
        task = HumanTask.objects.select_for_update().filter(pk=task_id).first()
        if task is None:
            raise TaskError(f"no task {task_id}", status=404)
        if task.status != TaskStatus.OPEN:
            raise TaskError(f"the task is already {task.get_status_display().lower()}", status=409)
        before = {
            "users": sorted(task.assignees.values_list("username", flat=True)),
            "groups": sorted(task.assigned_groups.values_list("name", flat=True)),
        }
        people_before = still_to_answer(task)
        task.assignees.set(users)
        task.assigned_groups.set(groups)
        task.claimed_by, task.claimed_at = None, None
        task.save(update_fields=["claimed_by", "claimed_at"])
        record_event(
            task,
            TaskEventKind.REASSIGNED,
            actor=by,
            note=note,
            detail={**people.as_json(), "before": before},
        )
        announce(task, "reassigned")
        reassigned_on_commit(task, before=people_before, after=still_to_answer(task), by=by)
    return task


def open_run_tasks(run_ids: Iterable[int]) -> QuerySet[HumanTask]:
    """The open tasks the runs asked, which their end cancels. A state machine's task outlives
    the run that opened it: its state owns it (engine.machines.tasks)."""
    return HumanTask.objects.filter(
        run_id__in=list(run_ids), status=TaskStatus.OPEN, machine_instance__isnull=True
    )


def cancel_open_tasks(run_ids: Iterable[int]) -> None:
    """Close what ended runs asked."""
    for task_id in open_run_tasks(run_ids).values_list("pk", flat=True):
        close_task(task_id, TaskStatus.CANCELLED)


def reopen_cancelled_tasks(run_id: int) -> None:
    """Open again the tasks a run's end cancelled, for a retried run that waits on them."""
    for task in HumanTask.objects.select_for_update().filter(
        run_id=run_id, status=TaskStatus.CANCELLED
    ):
        task.status = TaskStatus.OPEN
        task.decided_at = None
        task.save(update_fields=["status", "decided_at"])
        record_event(task, TaskEventKind.REOPENED)
        announce(task, "reopened")


def assigned_to(user: User) -> Q:
    """Tasks assigned to the user directly or through one of their groups."""
    return Q(assignees=user) | Q(assigned_groups__in=user.groups.all())


def is_assignee(task: HumanTask, user: User) -> bool:
    if task.assignees.filter(pk=user.pk).exists():
        return True
    return task.assigned_groups.filter(pk__in=user.groups.values("pk")).exists()


def announce(task: HumanTask, what: str) -> None:
    send_on_commit(
        task_changed,
        task_id=task.pk,
        run_id=task.run_id,
        kind=task.kind,
        status=task.status,
        event=what,
    )
