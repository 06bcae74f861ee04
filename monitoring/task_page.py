"""What a task's own page shows: the task, its clock, the context that matters, the form to
fill in, earlier decisions in its run, and its history."""

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import User

from accounts.roles import Capability, can
from engine.human import DECISIONS, delegators_of, is_assignee
from engine.human.standing import four_eyes_problem
from engine.models import HumanTask, TaskDecision, TaskEvent, TaskKind, TaskStatus
from monitoring.inbox import (
    BUTTON_LABELS,
    Detail,
    FormField,
    clock_of,
    details_of,
    form_fields,
)


@dataclass(frozen=True)
class TaskPage:
    task: HumanTask
    details: tuple[Detail, ...]
    choices: tuple[tuple[str, str], ...]
    fields: tuple[FormField, ...]
    decisions: list[TaskDecision]
    earlier: list[HumanTask]
    history: list[TaskEvent]
    on_behalf_of: str
    blocked: str
    may_decide: bool
    overdue: bool
    clock: str

    @property
    def comment_needed_for(self) -> str:
        """The answers that need a comment, as words: "reject or ask for changes"."""
        verbs = {"approved": "approve", "rejected": "reject", "changes": "ask for changes"}
        return " or ".join(verbs.get(answer, answer) for answer in self.task.comment_required)


def may_see(task: HumanTask, user: User) -> bool:
    """Assignees, their delegates today and operators see a task; nobody else learns of it."""
    if can(user, Capability.REASSIGN_TASKS) or is_assignee(task, user):
        return True
    return any(is_assignee(task, other) for other in delegators_of(user, task.run.workflow))


def task_page(task: HumanTask, user: User, now: datetime) -> TaskPage:
    principal = None
    if not is_assignee(task, user):
        principal = next(
            (p for p in delegators_of(user, task.run.workflow) if is_assignee(task, p)), None
        )
    acting = [user, *([principal] if principal else [])]
    blocked = next((reason for person in acting if (reason := four_eyes_problem(task, person))), "")
    decisions = list(task.decisions.select_related("user", "decided_by"))
    answered = any(
        decision.user_id in {person.pk for person in acting} or decision.decided_by_id == user.pk
        for decision in decisions
    )
    claimed_elsewhere = task.claimed_by_id not in (None, user.pk) and (
        principal is None or task.claimed_by_id != principal.pk
    )
    may_decide = (
        task.status == TaskStatus.OPEN
        and (principal is not None or is_assignee(task, user))
        and not blocked
        and not answered
        and not claimed_elsewhere
    )
    earlier = list(
        HumanTask.objects.filter(run_id=task.run_id)
        .exclude(pk=task.pk)
        .prefetch_related("decisions__user")
        .order_by("created_at", "pk")
    )
    return TaskPage(
        task=task,
        details=details_of(task.data),
        choices=tuple((value, BUTTON_LABELS[value]) for value in DECISIONS[TaskKind(task.kind)]),
        fields=form_fields(task.form or {}),
        decisions=decisions,
        earlier=earlier,
        history=list(task.history.select_related("actor", "on_behalf_of")),
        on_behalf_of=principal.get_username() if principal else "",
        blocked=blocked,
        may_decide=may_decide,
        overdue=task.due_at is not None and task.due_at < now,
        clock=clock_of(task, now),
    )
