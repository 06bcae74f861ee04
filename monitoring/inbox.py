"""What the inbox shows: a user's open tasks and the decisions they took, in a fixed few queries.

Who may decide what, and how a task ends, stays in engine.human; this module only reads.
"""

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.db.models import Prefetch

from engine.human import DECISIONS, tasks_for
from engine.models import HumanTask, TaskDecision, TaskKind, TaskStatus

# A page, not an archive: GET /api/tasks pages through the rest.
OPEN_LIMIT = 100
RECENT_LIMIT = 10

BUTTON_LABELS = {"approved": "Approve", "changes": "Request changes", "rejected": "Reject"}
PAST_TENSE = {"approved": "approved", "changes": "asked for changes on", "rejected": "rejected"}

# Runs carry large JSON documents (input, output); the inbox needs none of them.
_TASK_FIELDS = (
    "id",
    "kind",
    "title",
    "description",
    "data",
    "status",
    "required_approvals",
    "created_at",
    "due_at",
    "reminded_at",
    "escalated_at",
    "step_name",
    "run__id",
    "run__workflow",
)


@dataclass(frozen=True)
class Detail:
    """One entry of a task's data; dicts and lists are compact JSON, shown as code."""

    key: str
    value: str
    structured: bool


@dataclass(frozen=True)
class OpenTask:
    task: HumanTask
    choices: tuple[tuple[str, str], ...]
    details: tuple[Detail, ...]
    overdue: bool
    decisions: tuple[TaskDecision, ...]
    # Decisions that count towards required_approvals: approvals for an approval (one
    # rejection ends it), every answer for a review.
    received: int
    mine: TaskDecision | None

    @property
    def shows_tally(self) -> bool:
        return self.task.required_approvals > 1 or bool(self.decisions)


@dataclass(frozen=True)
class Inbox:
    open: list[OpenTask]
    more: bool
    recent: list[TaskDecision]


def details_of(data: Any) -> tuple[Detail, ...]:
    if data in (None, "", {}, []):
        return ()
    # Keys in name order: PostgreSQL's jsonb keeps them shortest first, SQLite as written, and
    # the same task must read the same on both.
    items = sorted(data.items()) if isinstance(data, dict) else [("value", data)]
    return tuple(_detail(str(key), value) for key, value in items)


def _detail(key: str, value: Any) -> Detail:
    if isinstance(value, str):
        return Detail(key, value, structured=False)
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    return Detail(key, text, structured=isinstance(value, (dict, list)))


def _open_task(task: HumanTask, user: User, now: datetime) -> OpenTask:
    decisions = tuple(task.decisions.all())  # prefetched, oldest first
    if task.kind == TaskKind.APPROVAL:
        received = sum(1 for decision in decisions if decision.decision == "approved")
    else:
        received = len(decisions)
    return OpenTask(
        task=task,
        choices=tuple((value, BUTTON_LABELS[value]) for value in DECISIONS[TaskKind(task.kind)]),
        details=details_of(task.data),
        overdue=task.due_at is not None and task.due_at < now,
        decisions=decisions,
        received=received,
        mine=next((decision for decision in decisions if decision.user_id == user.pk), None),
    )


def open_tasks(user: User, now: datetime) -> tuple[list[OpenTask], bool]:
    """The user's open tasks, newest first, and whether more exist than one page shows."""
    tasks = list(
        tasks_for(user)
        .filter(status=TaskStatus.OPEN)
        .select_related("run")
        .only(*_TASK_FIELDS)
        .prefetch_related(
            Prefetch(
                "decisions",
                queryset=TaskDecision.objects.select_related("user").only(
                    "task", "decision", "decided_at", "user__username"
                ),
            )
        )[: OPEN_LIMIT + 1]
    )
    return [_open_task(task, user, now) for task in tasks[:OPEN_LIMIT]], len(tasks) > OPEN_LIMIT


def recent_decisions(user: User) -> list[TaskDecision]:
    """The user's last decisions with the task each settled (or still waits on)."""
    return list(
        TaskDecision.objects.filter(user=user)
        .select_related("task", "task__run")
        .only(
            "decision",
            "comment",
            "decided_at",
            "task__id",
            "task__kind",
            "task__title",
            "task__status",
            "task__run__id",
            "task__run__workflow",
        )
        .order_by("-decided_at", "-pk")[:RECENT_LIMIT]
    )


def inbox_of(user: User, now: datetime) -> Inbox:
    tasks, more = open_tasks(user, now)
    return Inbox(open=tasks, more=more, recent=recent_decisions(user))


def task_title(task_id: int) -> str:
    return HumanTask.objects.filter(pk=task_id).values_list("title", flat=True).first() or (
        f"Task {task_id}"
    )
