"""What the inbox shows: a user's open tasks and the decisions they took, in a fixed few queries.

Who may decide what, and how a task ends, stays in engine.human; this module only reads.
"""

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.models import Group, User
from django.db.models import Prefetch, prefetch_related_objects
from django.utils import timezone
from django.utils.timesince import timesince, timeuntil

from engine.human import DECISIONS
from engine.human.delegation import active_rules_to
from engine.human.queries import TaskQuery, find_tasks
from engine.models import Delegation, HumanTask, SavedView, TaskDecision, TaskKind

RECENT_LIMIT = 10
VIEW_LABELS = (
    ("open", "Everything open"),
    ("mine", "My tasks"),
    ("queue", "My groups' queue"),
    ("delegated", "Delegated to me"),
    ("decided", "Decided"),
)

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
    "run__created_by",
    "requester",
    "distinct_from",
    "claimed_by__username",
    "form",
    "remind_at",
    "escalate_to",
    "expires_at",
)


@dataclass(frozen=True)
class Detail:
    """One entry of a task's data; dicts and lists are compact JSON, shown as code."""

    key: str
    value: str
    structured: bool


@dataclass(frozen=True)
class FormField:
    """One field of the task's form, as the page draws it."""

    name: str
    title: str
    kind: str  # text, number, integer, checkbox or select
    required: bool
    choices: tuple[str, ...]
    description: str


def form_fields(form: dict[str, Any]) -> tuple[FormField, ...]:
    required = set(form.get("required") or ())
    fields = []
    for name, spec in (form.get("properties") or {}).items():
        kind = {"boolean": "checkbox", "number": "number", "integer": "integer"}.get(
            spec.get("type"), "text"
        )
        choices = tuple(str(choice) for choice in spec.get("enum") or ())
        fields.append(
            FormField(
                name=name,
                title=str(spec.get("title") or name),
                kind="select" if choices else kind,
                required=name in required,
                choices=choices,
                description=str(spec.get("description") or ""),
            )
        )
    return tuple(fields)


def clock_of(task: HumanTask, now: datetime) -> str:
    """The task's clock in words: "due in 3 hours · reminder at 09:00 (sent) · escalates to
    finance at 17:00 · closes at 09:00 tomorrow"."""
    parts: list[str] = []
    if task.due_at is not None:
        parts.append(
            f"overdue since {timesince(task.due_at, now)}"
            if task.due_at < now
            else f"due in {timeuntil(task.due_at, now)}"
        )
    if task.remind_at is not None:
        sent = " (sent)" if task.reminded_at else ""
        parts.append(f"reminder {_moment(task.remind_at)}{sent}")
    escalate_to = task.escalate_to or {}
    if escalate_to and task.due_at is not None:
        people = ", ".join([*escalate_to.get("users", []), *escalate_to.get("groups", [])])
        done = "escalated to" if task.escalated_at else "escalates to"
        parts.append(f"{done} {people} {_moment(task.due_at)}")
    if task.expires_at is not None and task.expires_at != task.due_at:
        parts.append(f"closes {_moment(task.expires_at)}")
    return " · ".join(parts)


def _moment(when: datetime) -> str:
    local = timezone.localtime(when)
    return f"at {local:%Y-%m-%d %H:%M}"


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
    on_behalf_of: str = ""
    """The person who delegated the task to the user ("" for their own)."""
    blocked: str = ""
    """Why the four-eyes rule keeps the user from deciding ("" when it does not)."""
    claimable: bool = False
    claimed_by_me: bool = False
    fields: tuple[FormField, ...] = ()
    clock: str = ""

    @property
    def shows_tally(self) -> bool:
        return self.task.required_approvals > 1 or bool(self.decisions)


@dataclass(frozen=True)
class Inbox:
    open: list[OpenTask]
    next_cursor: str
    recent: list[TaskDecision]
    query: TaskQuery
    saved: list[SavedView]

    @property
    def more(self) -> bool:
        return bool(self.next_cursor)

    @property
    def filtered(self) -> bool:
        """Whether the page shows less than everything open (a view or a filter is chosen)."""
        return self.query.as_params() != TaskQuery().as_params()

    @property
    def params(self) -> str:
        return urlencode(self.query.as_params())

    @property
    def next_params(self) -> str:
        return urlencode({**self.query.as_params(), "cursor": self.next_cursor})

    @property
    def view_links(self) -> list[tuple[str, str, str, bool]]:
        """(view, label, query string, current) for the view tabs, keeping the filters."""
        return [
            (
                view,
                label,
                urlencode({**self.query.as_params(), "view": view}),
                view == self.query.view,
            )
            for view, label in VIEW_LABELS
        ]


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


@dataclass(frozen=True)
class _Who:
    """What the inbox needs to know about the user, read once for all their tasks."""

    user: User
    groups: frozenset[int]
    principals: tuple[tuple[User, frozenset[int], tuple[str, ...]], ...]
    stage_deciders: dict[tuple[int, str], set[int]]


def _assigned(task: HumanTask, user_id: int, groups: frozenset[int]) -> bool:
    direct = any(person.pk == user_id for person in task.assignees.all())
    return direct or any(group.pk in groups for group in task.assigned_groups.all())


def _principal(task: HumanTask, who: _Who) -> User | None:
    """The person the user stands in for on this task, when it is not the user's own."""
    if _assigned(task, who.user.pk, who.groups):
        return None
    for person, groups, workflows in who.principals:
        if (not workflows or task.run.workflow in workflows) and _assigned(task, person.pk, groups):
            return person
    return None


def _blocked(task: HumanTask, people: list[User], who: _Who) -> str:
    """The four-eyes reason, from what was read already (the server checks it all again)."""
    for person in people:
        if person.pk in (task.requester_id, task.run.created_by_id):
            return f"four-eyes: {person.get_username()} asked for this; someone else must decide"
        for stage in task.distinct_from or ():
            if person.pk in who.stage_deciders.get((task.run_id, stage), set()):
                return (
                    f"four-eyes: {person.get_username()} decided the {stage!r} stage of this "
                    "run; this stage needs someone else"
                )
    return ""


def _open_task(task: HumanTask, who: _Who, now: datetime) -> OpenTask:
    user = who.user
    decisions = tuple(task.decisions.all())  # prefetched, oldest first
    if task.kind == TaskKind.APPROVAL:
        received = sum(1 for decision in decisions if decision.decision == "approved")
    else:
        received = len(decisions)
    principal = _principal(task, who)
    counted = principal or user
    grouped = bool(task.assigned_groups.all())
    blocked = _blocked(task, [user, *([principal] if principal else [])], who)
    return OpenTask(
        task=task,
        choices=tuple((value, BUTTON_LABELS[value]) for value in DECISIONS[TaskKind(task.kind)]),
        details=details_of(task.data),
        overdue=task.due_at is not None and task.due_at < now,
        decisions=decisions,
        received=received,
        mine=next(
            (
                decision
                for decision in decisions
                if decision.user_id in (user.pk, counted.pk) or decision.decided_by_id == user.pk
            ),
            None,
        ),
        on_behalf_of=principal.get_username() if principal else "",
        blocked=blocked,
        # A claim goes through the same four-eyes check as a decision: never offer one it refuses.
        claimable=grouped and task.claimed_by_id is None and not blocked,
        fields=form_fields(task.form or {}),
        clock=clock_of(task, now),
        claimed_by_me=task.claimed_by_id == user.pk,
    )


def open_tasks(
    user: User, now: datetime, query: TaskQuery | None = None
) -> tuple[list[OpenTask], str]:
    """One page of the user's tasks for the query (newest due first by default), as cards,
    and the cursor of the next page ("" when it is the last)."""
    rules = active_rules_to(user)
    page = find_tasks(user, query or TaskQuery(), now, rules)
    tasks = list(page.tasks)
    prefetch_related_objects(
        tasks,
        Prefetch(
            "decisions",
            queryset=TaskDecision.objects.select_related("user").only(
                "task", "decision", "decided_at", "decided_by", "user__username"
            ),
        ),
        Prefetch("assignees", queryset=User.objects.only("pk")),
        Prefetch("assigned_groups", queryset=Group.objects.only("pk")),
    )
    who = _who(user, rules, tasks)
    return [_open_task(task, who, now) for task in tasks], page.next_cursor


def _who(user: User, rules: list[Delegation], tasks: list[HumanTask]) -> _Who:
    groups = frozenset(user.groups.values_list("pk", flat=True))
    principals = tuple(
        (
            rule.user,
            frozenset(rule.user.groups.values_list("pk", flat=True)),
            tuple(rule.workflows or ()),
        )
        for rule in rules
    )
    stages = {stage for task in tasks for stage in task.distinct_from or ()}
    deciders: dict[tuple[int, str], set[int]] = {}
    if stages:
        earlier = TaskDecision.objects.filter(
            task__run_id__in={task.run_id for task in tasks}, task__step_name__in=stages
        ).values_list("task__run_id", "task__step_name", "user_id", "decided_by_id")
        for run_id, stage, person, delegate in earlier:
            deciders.setdefault((run_id, stage), set()).update({person, delegate} - {None})
    return _Who(user, groups, principals, deciders)


def recent_decisions(user: User) -> list[TaskDecision]:
    """The user's last decisions with the task each settled (or still waits on)."""
    return list(
        TaskDecision.objects.filter(user=user)
        .select_related("task", "task__run", "task__machine_instance")
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
            "task__machine_state",
            "task__machine_instance__id",
            "task__machine_instance__machine",
            "task__machine_instance__key",
        )
        .order_by("-decided_at", "-pk")[:RECENT_LIMIT]
    )


def inbox_of(user: User, now: datetime, query: TaskQuery | None = None) -> Inbox:
    query = query or TaskQuery()
    tasks, cursor = open_tasks(user, now, query)
    return Inbox(
        open=tasks,
        next_cursor=cursor,
        recent=recent_decisions(user),
        query=query,
        saved=list(SavedView.objects.filter(user=user).order_by("name")),
    )


def posted_form(post: Any) -> dict[str, str]:
    """The task form's fields from a posted HTML form (named form.<field>)."""
    return {
        key.removeprefix("form."): value
        for key, value in post.items()
        if key.startswith("form.") and isinstance(value, str)
    }


def task_title(task_id: int) -> str:
    return HumanTask.objects.filter(pk=task_id).values_list("title", flat=True).first() or (
        f"Task {task_id}"
    )
