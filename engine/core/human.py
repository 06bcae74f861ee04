"""People in the loop: `approval()` and `review()` ask for a decision and wait for it durably.

A task is opened by a journaled step, decided in the inbox by its assignees, and the run learns
the decision from the task's own settled state, never from an event anyone could send. While
it waits, the task may be reminded, escalated and finally timed out, each a journaled step.
The steps are declared here; what they do to tasks is the engine's Django side, registered as
a TaskService (engine/apps.py), so this module stays plain Python and `WorkflowTester` fakes the
steps with tasks of its own.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

from engine.core.calendar import BusinessCalendar, CalendarError, business_calendar
from engine.core.context import current_step
from engine.core.definitions import step
from engine.core.errors import DefinitionError, NonRetryableError
from engine.core.replay import ExecutionContext
from engine.core.running import require_context
from engine.core.task_forms import form_problems

TIMED_OUT = "timeout"
"""The outcome of a task nobody decided in time."""


class Decision(dict[str, Any]):
    """How a task ended: {"task", "outcome", "decisions"}, with attribute shortcuts.

    `outcome` is "approved", "rejected", "changes" (reviews) or "timeout"; `decisions` lists
    {"user", "decision", "comment", "decided_at"} in the order they were taken. It is a dict,
    so a workflow may return it or journal it as it is.
    """

    @property
    def task(self) -> int:
        return int(self["task"])

    @property
    def outcome(self) -> str:
        return str(self["outcome"])

    @property
    def approved(self) -> bool:
        return self.outcome == "approved"

    @property
    def decisions(self) -> list[dict[str, Any]]:
        return list(self.get("decisions") or [])

    @property
    def comment(self) -> str:
        """The comment of the decision that settled the task ("" without one)."""
        decisions = self.decisions
        return str(decisions[-1].get("comment") or "") if decisions else ""


class TaskService(Protocol):
    """What the task steps do, on the engine's side (engine.human)."""

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
        requester: str | None = None,
        distinct_from: list[str] | None = None,
        any_rejection_rejects: bool = True,
        form: dict[str, Any] | None = None,
        comment_required: list[str] | None = None,
        clock: dict[str, Any] | None = None,
    ) -> int: ...

    def remind(self, task_id: int) -> dict[str, Any]: ...

    def escalate(self, task_id: int, people: dict[str, Any]) -> dict[str, Any]: ...

    def close(self, task_id: int, status: str) -> dict[str, Any]: ...


_services: list[TaskService] = []


def register_task_service(service: TaskService) -> None:
    _services[:] = [service]


def _service() -> TaskService:
    if not _services:
        raise DefinitionError(
            "people's tasks need the engine: run the workflow through it, or test it with "
            "engine.core.testing.WorkflowTester"
        )
    return _services[0]


@step(name="open-task")
def open_task(
    *,
    kind: str,
    title: str,
    description: str = "",
    data: dict[str, Any] | None = None,
    assignees: dict[str, Any],
    required: int = 1,
    timeout_seconds: float | None = None,
    requester: str | None = None,
    distinct_from: list[str] | None = None,
    any_rejection_rejects: bool = True,
    form: dict[str, Any] | None = None,
    comment_required: list[str] | None = None,
    clock: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Open the task a run waits for; a retried attempt finds the task it opened before.

    `clock`: reminder_seconds, escalate_to, escalation_seconds, shown with the task."""
    info = current_step()
    if info is None:
        raise NonRetryableError("a task is opened by a running step")
    task_id = _service().open(
        run_id=info.run_id,
        step_name=info.name,
        kind=kind,
        title=title,
        description=description,
        data=data or {},
        assignees=assignees,
        required=required,
        timeout_seconds=timeout_seconds,
        requester=requester,
        distinct_from=distinct_from,
        any_rejection_rejects=any_rejection_rejects,
        form=form,
        comment_required=comment_required,
        clock=clock,
    )
    return {"task": task_id}


@step(name="remind")
def remind_task(task_id: int) -> dict[str, Any]:
    """Remind the people a task waits for (by e-mail)."""
    return _service().remind(task_id)


@step(name="escalate")
def escalate_task(task_id: int, people: dict[str, Any]) -> dict[str, Any]:
    """Add the escalation's people to a task that waited too long."""
    return _service().escalate(task_id, people)


@step(name="expire")
def expire_task(task_id: int) -> dict[str, Any]:
    """Close a task nobody decided in time (the last wait closed it already)."""
    return _service().close(task_id, "timed_out")


@step(name="withdraw")
def withdraw_task(task_id: int) -> dict[str, Any]:
    """Close the task of a branch a join no longer needs (another branch won the race)."""
    return _service().close(task_id, "withdrawn")


def task_phases(
    timeout: float | None,
    reminder: float | None = None,
    escalates: bool = False,
    escalation_timeout: float | None = None,
) -> list[tuple[float | None, str]]:
    """The waits of a task: each phase's length and what its end does (remind, escalate,
    expire). Shared by `approval()` and the graph's human nodes."""
    if timeout is None:
        return [(None, "expire")]
    phases: list[tuple[float | None, str]] = []
    if reminder is not None:
        phases.append((reminder, "remind"))
    last = timeout - (reminder or 0)
    if escalates:
        phases.append((last, "escalate"))
        last = escalation_timeout if escalation_timeout is not None else timeout
    phases.append((last, "expire"))
    return phases


def phase_wait_name(name: str, phase: int) -> str:
    return f"{name}:wait" if phase == 0 else f"{name}:wait-{phase + 1}"


@dataclass(frozen=True)
class _Ask:
    """Everything approval() and review() were asked, checked before any task opens."""

    kind: str
    title: str
    users: Sequence[str]
    groups: Sequence[str]
    required: int
    description: str
    data: dict[str, Any] | None
    timeout: float | timedelta | None
    reminder: float | timedelta | None
    escalate_to: dict[str, Sequence[str]] | None
    escalation_timeout: float | timedelta | None
    requester: str | None
    distinct_from: Sequence[str]
    any_rejection_rejects: bool
    form: dict[str, Any] | None
    comment_required: Sequence[str]
    calendar: dict[str, Any] | BusinessCalendar | None
    name: str


def approval(
    title: str,
    *,
    users: Sequence[str] = (),
    groups: Sequence[str] = (),
    required: int = 1,
    description: str = "",
    data: dict[str, Any] | None = None,
    timeout: float | timedelta | None = None,
    reminder: float | timedelta | None = None,
    escalate_to: dict[str, Sequence[str]] | None = None,
    escalation_timeout: float | timedelta | None = None,
    requester: str | None = None,
    distinct_from: Sequence[str] = (),
    any_rejection_rejects: bool = True,
    form: dict[str, Any] | None = None,
    comment_required: Sequence[str] = (),
    calendar: dict[str, Any] | BusinessCalendar | None = None,
    name: str = "approval",
) -> Decision:
    """Ask these users or groups to approve; wait durably for the decision.

    `required` approvals (by distinct people) approve it; the first rejection rejects it
    (with `any_rejection_rejects=False`, only once too few people are left to approve).
    `data` is shown to the people deciding. With `timeout`, a task nobody decided ends with
    outcome "timeout" (after a `reminder`, and an escalation to `escalate_to` — {"users": [...],
    "groups": [...]} — with its own `escalation_timeout`, when given).

    Four-eyes: whoever started the run may not decide, nor the user named `requester`, nor
    anyone who decided one of the earlier approvals or reviews named in `distinct_from`.
    `form` is a small JSON Schema object the approver fills in (each decision's `form`);
    `comment_required=["rejected"]` makes a rejection say why. With `calendar` (business
    hours: {"timezone", "days", "start", "end", "holidays"}) the timeout, reminder and
    escalation count working time only.
    `name` names the task's steps in the journal; give each approval of a workflow its own.
    """
    return _ask(_Ask(kind="approval", **locals()))  # every parameter, as given


def review(
    title: str,
    *,
    users: Sequence[str] = (),
    groups: Sequence[str] = (),
    required: int | None = None,
    description: str = "",
    data: dict[str, Any] | None = None,
    timeout: float | timedelta | None = None,
    reminder: float | timedelta | None = None,
    escalate_to: dict[str, Sequence[str]] | None = None,
    escalation_timeout: float | timedelta | None = None,
    requester: str | None = None,
    distinct_from: Sequence[str] = (),
    form: dict[str, Any] | None = None,
    comment_required: Sequence[str] = (),
    calendar: dict[str, Any] | BusinessCalendar | None = None,
    name: str = "review",
) -> Decision:
    """Ask reviewers for a review; wait durably until `required` of them decided (by default
    every named user). The outcome is "rejected" if any rejected, else "changes" if any asked
    for changes, else "approved" (or "timeout"). Options as for `approval()`."""
    asked = {key: value for key, value in locals().items() if key != "required"}
    required_reviews = required if required is not None else max(len(users), 1)
    return _ask(_Ask(**asked, required=required_reviews, any_rejection_rejects=True, kind="review"))


def _ask(ask: _Ask) -> Decision:
    kind = ask.kind
    context = require_context(f"{kind}()")
    people = _people(kind, "users/groups", {"users": ask.users, "groups": ask.groups})
    escalation = (
        _people(kind, "escalate_to", ask.escalate_to) if ask.escalate_to is not None else None
    )
    if not ask.title or not isinstance(ask.title, str):
        raise DefinitionError(f"{kind}() needs a title")
    required = ask.required
    if isinstance(required, bool) or not isinstance(required, int) or required < 1:
        raise DefinitionError(f"{kind}(required=...) must be a whole number of at least 1")
    if ask.data is not None and not isinstance(ask.data, dict):
        raise DefinitionError(f"{kind}(data=...) takes a dict shown to the people deciding")
    if ask.requester is not None and not isinstance(ask.requester, str):
        raise DefinitionError(f"{kind}(requester=...) takes a user name")
    stages = ask.distinct_from
    if isinstance(stages, str) or not all(isinstance(stage, str) and stage for stage in stages):
        raise DefinitionError(f"{kind}(distinct_from=...) takes a list of approval names")
    if ask.form and form_problems(ask.form):
        where, message = form_problems(ask.form)[0]
        raise DefinitionError(f"{kind}(form=...){'.' + where if where else ''}: {message}")
    allowed = (
        ("approved", "rejected") if kind == "approval" else ("approved", "changes", "rejected")
    )
    needing = ask.comment_required
    if isinstance(needing, str) or any(answer not in allowed for answer in needing):
        raise DefinitionError(f"{kind}(comment_required=...) takes some of {', '.join(allowed)}")
    default = context.workflow.calendar if context.workflow is not None else None
    try:
        calendar = business_calendar(ask.calendar or default) if ask.calendar or default else None
    except CalendarError as wrong:
        raise DefinitionError(f"{kind}(calendar=...).{wrong.field}: {wrong.message}") from None
    seconds = _seconds(ask.timeout, kind, "timeout")
    remind_after = _seconds(ask.reminder, kind, "reminder")
    if remind_after is not None and (seconds is None or remind_after >= seconds):
        raise DefinitionError(f"{kind}(reminder=...) must come before its timeout")
    if escalation is not None and seconds is None:
        raise DefinitionError(f"{kind}(escalate_to=...) needs a timeout")
    opened = open_task.named(ask.name)(
        kind=kind,
        title=ask.title,
        description=ask.description,
        data=ask.data or {},
        assignees=people,
        required=required,
        timeout_seconds=seconds,
        requester=ask.requester or None,
        distinct_from=list(stages),
        any_rejection_rejects=bool(ask.any_rejection_rejects),
        form=ask.form or None,
        comment_required=list(ask.comment_required),
        clock={
            "reminder_seconds": remind_after,
            "escalate_to": escalation,
            "escalation_seconds": _seconds(ask.escalation_timeout, kind, "escalation_timeout")
            or seconds,
            "calendar": calendar.as_json() if calendar else None,
        },
    )
    task_id = int(opened["task"])
    phases = task_phases(
        seconds,
        remind_after,
        escalation is not None,
        _seconds(ask.escalation_timeout, kind, "escalation_timeout"),
    )
    return _wait_for_decision(context, task_id, phases, escalation, ask.name, calendar)


def _wait_for_decision(
    context: ExecutionContext,
    task_id: int,
    phases: list[tuple[float | None, str]],
    escalation: dict[str, list[str]] | None,
    name: str,
    calendar: BusinessCalendar | None = None,
) -> Decision:
    settled: dict[str, Any] = {}
    for phase, (seconds, then) in enumerate(phases):
        settled = context.await_task(
            task_id,
            phase_wait_name(name, phase),
            seconds,
            closes=then == "expire",
            calendar=calendar,
        )
        if settled["outcome"] != TIMED_OUT:
            return Decision(settled)
        if then == "remind":
            remind_task.named(f"{name}:remind")(task_id)
        elif then == "escalate":
            escalate_task.named(f"{name}:escalate")(task_id, escalation)
    # The last wait closed the task as timed out in the same transaction that ended the wait;
    # this step only records it (and closes a task left open by an older run).
    expire_task.named(f"{name}:expire")(task_id)
    return Decision(settled)


def _people(kind: str, field: str, value: Any) -> dict[str, list[str]]:
    if not isinstance(value, dict):
        raise DefinitionError(f"{kind}({field}=...) takes {{'users': [...], 'groups': [...]}}")
    people: dict[str, list[str]] = {}
    for key in ("users", "groups"):
        names = value.get(key) or ()
        if isinstance(names, str) or not all(isinstance(item, str) and item for item in names):
            raise DefinitionError(f"{kind}(): {key} must be a list of names")
        people[key] = list(names)
    if set(value) - {"users", "groups"}:
        raise DefinitionError(f"{kind}({field}=...) takes only users and groups")
    if not people["users"] and not people["groups"]:
        raise DefinitionError(f"{kind}() needs at least one user or group to ask")
    return people


def _seconds(value: float | timedelta | None, kind: str, what: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | timedelta):
        raise DefinitionError(f"{kind}({what}=...) takes seconds or a timedelta")
    seconds = value.total_seconds() if isinstance(value, timedelta) else float(value)
    if seconds <= 0:
        raise DefinitionError(f"{kind}({what}=...) must be positive")
    return seconds
