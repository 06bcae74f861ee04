"""Tasks API: my tasks, deciding, claiming, reassigning, and my out-of-office delegations.

Whether someone may act on a task is engine.human's call (assignee, claim, delegation,
four-eyes); a refusal answers with the reason and changes nothing.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any

from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Field, Router, Schema, Status

from accounts.api_auth import require_capability
from accounts.api_bodies import BodyIn
from accounts.api_refusals import FieldError
from accounts.roles import Capability, can
from engine.api.paging import page_limit
from engine.human import (
    TaskError,
    claim_task,
    decide_task,
    end_delegation,
    reassign,
    set_delegation,
    tasks_for,
    unclaim_task,
)
from engine.human.queries import find_tasks, parse_query
from engine.human.visibility import seen_by
from engine.models import Delegation, HumanTask, TaskStatus

router = Router(tags=["tasks"])


class TaskDecisionOut(Schema):
    user: str = Field(description="Whose decision it is (an assignee)")
    decided_by: str | None = Field(description="Who took it for them, when a delegate did")
    decision: str
    comment: str
    decided_at: datetime


class TaskEventOut(Schema):
    kind: str
    actor: str | None
    on_behalf_of: str | None
    note: str
    detail: dict[str, Any]
    at: datetime


class TaskOut(Schema):
    id: int
    run_id: int
    workflow: str
    step: str
    kind: str
    title: str
    description: str
    data: dict[str, Any]
    status: str
    required: int
    assignees: list[str]
    groups: list[str]
    created_at: datetime
    due_at: datetime | None
    decided_at: datetime | None
    decisions: list[TaskDecisionOut]
    claimed_by: str | None = None
    requester: str | None = Field(
        default=None, description="Named by the workflow; may not decide (nor may the starter)"
    )
    distinct_from: list[str] = Field(
        default_factory=list, description="Stages of the run whose deciders may not decide this"
    )


class TaskDetailOut(TaskOut):
    history: list[TaskEventOut] = Field(description="The audit trail, oldest first")


class DecideIn(BodyIn):
    decision: str = Field(description="approved or rejected; reviews also take changes")
    comment: str = Field("", max_length=5000)
    on_behalf_of: str | None = Field(
        default=None,
        description="The user who delegated this task to you (inferred when there is one)",
    )
    form: dict[str, Any] | None = Field(
        default=None, description="The task's form fields, when it asks for some on approval"
    )


class ReassignIn(BodyIn):
    users: list[str] = Field(default_factory=list, max_length=100)
    groups: list[str] = Field(default_factory=list, max_length=100)
    note: str = Field("", max_length=2000, description="Why; kept in the task's history")


class DelegationIn(BodyIn):
    delegate: str = Field(description="The user who decides your tasks for you")
    starts_on: date = Field(strict=False)
    ends_on: date = Field(strict=False)
    workflows: list[str] = Field(
        default_factory=list, max_length=50, description="Only these workflows (all when empty)"
    )


class DelegationOut(Schema):
    id: int
    delegate: str
    starts_on: date
    ends_on: date
    workflows: list[str]


def task_out(task: HumanTask) -> dict[str, Any]:
    return {
        "id": task.pk,
        "run_id": task.run_id,
        "workflow": task.run.workflow,
        "step": task.step_name,
        "kind": task.kind,
        "title": task.title,
        "description": task.description,
        "data": task.data,
        "status": task.status,
        "required": task.required_approvals,
        "assignees": [user.username for user in task.assignees.all()],
        "groups": [group.name for group in task.assigned_groups.all()],
        "created_at": task.created_at,
        "due_at": task.due_at,
        "decided_at": task.decided_at,
        "claimed_by": task.claimed_by.username if task.claimed_by else None,
        "requester": task.requester.username if task.requester else None,
        "distinct_from": list(task.distinct_from or []),
        "decisions": [
            {
                "user": decision.user.username,
                "decided_by": decision.decided_by.username if decision.decided_by else None,
                "decision": decision.decision,
                "comment": decision.comment,
                "decided_at": decision.decided_at,
            }
            for decision in task.decisions.all()
        ],
    }


def _detail_out(task: HumanTask) -> dict[str, Any]:
    history = [
        {
            "kind": event.kind,
            "actor": event.actor.username if event.actor else None,
            "on_behalf_of": event.on_behalf_of.username if event.on_behalf_of else None,
            "note": event.note,
            "detail": event.detail,
            "at": event.at,
        }
        for event in task.history.select_related("actor", "on_behalf_of")
    ]
    return {**task_out(task), "history": history}


def _with_details(tasks: QuerySet[HumanTask]) -> QuerySet[HumanTask]:
    return tasks.select_related("run", "claimed_by", "requester").prefetch_related(
        "assignees", "assigned_groups", "decisions__user", "decisions__decided_by"
    )


@contextmanager
def _naming(path_parameter: str, **renamed: str) -> Iterator[None]:
    """engine.human words a missing or settled task without a field; here the field is the path
    parameter that named it, and engine.human's own field names become the body's."""
    try:
        yield
    except TaskError as refused:
        if refused.field is None and refused.status in (404, 409):
            refused.field = path_parameter
        elif refused.field is not None:
            refused.field = renamed.get(refused.field, refused.field)
        raise


def _me(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _visible_task(request: HttpRequest, task_id: int) -> HumanTask:
    """A task the user works on (theirs, their group's, a delegator's) or, for operators, any."""
    user = _me(request)
    task = _with_details(HumanTask.objects.filter(pk=task_id)).first()
    if task is None:
        raise FieldError(404, "task_id", f"no task {task_id} assigned to you")
    if seen_by(task, user):
        return task
    raise FieldError(404, "task_id", f"no task {task_id} assigned to you")


@router.get(
    "/tasks",
    response=list[TaskOut],
    summary="Tasks assigned to me (directly, through my groups unless another member claimed "
    "one, or by people who delegated to me today); open ones unless status=all",
)
def list_tasks(request: HttpRequest, status: str = "open", limit: int = 100) -> list[Any]:
    require_capability(request, Capability.VIEW)
    if status != "all" and status not in TaskStatus.values:
        raise FieldError(422, "status", f"one of all, {', '.join(TaskStatus.values)}")
    page_limit(limit, default=100, most=500)
    tasks = tasks_for(_me(request))
    if status != "all":
        tasks = tasks.filter(status=status)
    return [task_out(task) for task in _with_details(tasks)[:limit]]


class TaskPageOut(Schema):
    tasks: list[TaskOut]
    next_cursor: str = Field(description="Pass as cursor for the next page; empty on the last")


@router.get(
    "/tasks/search",
    response=TaskPageOut,
    summary="Find my tasks: view (open, mine, queue, delegated, decided), workflow, due "
    "(overdue, today, week, none), assignee, q (title, description, data), data "
    "(amount>=1000,city=Lyon), sort (due, -due, created, -created, workflow), cursor, limit",
)
def search_tasks(request: HttpRequest) -> dict[str, Any]:
    require_capability(request, Capability.VIEW)
    page = find_tasks(_me(request), parse_query(request.GET))
    tasks = _with_details(HumanTask.objects.filter(pk__in=[task.pk for task in page.tasks]))
    loaded = {task.pk: task for task in tasks}
    return {
        "tasks": [task_out(loaded[task.pk]) for task in page.tasks if task.pk in loaded],
        "next_cursor": page.next_cursor,
    }


@router.get(
    "/tasks/{task_id}",
    response=TaskDetailOut,
    summary="One of my tasks (operators: any) with its audit trail",
)
def get_task(request: HttpRequest, task_id: int) -> Any:
    require_capability(request, Capability.VIEW)
    return _detail_out(_visible_task(request, task_id))


@router.post(
    "/tasks/{task_id}/decide",
    response=TaskDetailOut,
    summary="Decide a task assigned to me (or to someone who delegated it to me), with a "
    "comment; the waiting run goes on. 403 says why not (four-eyes, not assigned)",
)
def decide(request: HttpRequest, task_id: int, body: DecideIn) -> Any:
    # Being an assignee is the permission: a designer asked for a review may answer it.
    require_capability(request, Capability.VIEW)
    with _naming("task_id"):
        decide_task(
            task_id, _me(request), body.decision, body.comment, body.on_behalf_of, body.form
        )
    return _detail_out(_with_details(HumanTask.objects.filter(pk=task_id)).get())


@router.post(
    "/tasks/{task_id}/claim",
    response=TaskDetailOut,
    summary="Take a task of my group for myself; 409 names whoever has it already",
)
def claim(request: HttpRequest, task_id: int) -> Any:
    require_capability(request, Capability.VIEW)
    with _naming("task_id"):
        claim_task(task_id, _me(request))
    return _detail_out(_with_details(HumanTask.objects.filter(pk=task_id)).get())


@router.post(
    "/tasks/{task_id}/unclaim",
    response=TaskDetailOut,
    summary="Give a task I claimed back to its group (operators: any claimed task)",
)
def unclaim(request: HttpRequest, task_id: int) -> Any:
    require_capability(request, Capability.VIEW)
    user = _me(request)
    with _naming("task_id"):
        unclaim_task(task_id, user, as_operator=can(user, Capability.REASSIGN_TASKS))
    return _detail_out(_with_details(HumanTask.objects.filter(pk=task_id)).get())


@router.post(
    "/tasks/{task_id}/reassign",
    response=TaskDetailOut,
    summary="Operators: give an open task to other users or groups (its claim ends)",
)
def reassign_task(request: HttpRequest, task_id: int, body: ReassignIn) -> Any:
    require_capability(request, Capability.REASSIGN_TASKS)
    people = {"users": body.users, "groups": body.groups}
    with _naming("task_id", assignees="users"):
        reassign(task_id, people, _me(request), body.note)
    return _detail_out(_with_details(HumanTask.objects.filter(pk=task_id)).get())


def _delegation_out(rule: Delegation) -> dict[str, Any]:
    return {
        "id": rule.pk,
        "delegate": rule.delegate.username,
        "starts_on": rule.starts_on,
        "ends_on": rule.ends_on,
        "workflows": list(rule.workflows or []),
    }


@router.get("/me/delegations", response=list[DelegationOut], summary="My out-of-office rules")
def list_delegations(request: HttpRequest) -> list[Any]:
    require_capability(request, Capability.VIEW)
    rules = Delegation.objects.filter(user=_me(request)).select_related("delegate")
    return [_delegation_out(rule) for rule in rules.order_by("starts_on", "pk")]


@router.post(
    "/me/delegations",
    response={201: DelegationOut},
    summary="Let someone decide my tasks between two dates (not passed on by them)",
)
def add_delegation(request: HttpRequest, body: DelegationIn) -> Status[Any]:
    require_capability(request, Capability.VIEW)
    rule = set_delegation(_me(request), body.delegate, body.starts_on, body.ends_on, body.workflows)
    return Status(201, _delegation_out(rule))


@router.delete(
    "/me/delegations/{delegation_id}", response={204: None}, summary="End one of my rules"
)
def remove_delegation(request: HttpRequest, delegation_id: int) -> Status[None]:
    require_capability(request, Capability.VIEW)
    with _naming("delegation_id"):
        end_delegation(_me(request), delegation_id)
    return Status(204, None)
