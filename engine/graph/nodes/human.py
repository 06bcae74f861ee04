"""Human nodes: an approval or a review creates a task and waits durably for its decision.

The node's own step opens the task; the run then waits on the task itself (never on an event),
reminding, escalating and timing out through engine.core.human's journaled steps.
"""

from collections.abc import Mapping
from typing import Any

from engine.core.api import Pending, outcome
from engine.core.calendar import business_calendar, calendar_problems
from engine.core.durations import TIMEOUT_SCHEMA, later, parse_duration
from engine.core.human import (
    escalate_task,
    expire_task,
    phase_wait_name,
    remind_task,
    task_phases,
    withdraw_task,
)
from engine.core.running import current_context
from engine.core.task_forms import form_problems
from engine.graph.nodes.base import (
    CheckContext,
    Leave,
    NodeContext,
    NodeResult,
    NodeType,
    Problem,
    Suspends,
    Wait,
    WaitContext,
    register,
)
from engine.human import Assignees, open_task
from engine.models import TaskKind

PEOPLE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "users": {"type": "array", "items": {"type": "string"}, "title": "Users"},
        "groups": {"type": "array", "items": {"type": "string"}, "title": "Groups"},
    },
}


def _open(kind: str) -> Any:
    def execute(context: NodeContext) -> NodeResult:
        config = context.config
        people = Assignees.from_config(config.get("assignees") or config.get("reviewers"))
        timeout = parse_duration(config["timeout"]) if "timeout" in config else None
        calendar = business_calendar(config["calendar"]) if config.get("calendar") else None
        now = context.scope["now"]
        due_at = None
        if timeout:
            what = f'node "{context.node_id}", field "timeout"'
            due_at = calendar.add(now, timeout) if calendar else later(now, timeout, what)
        default_required = len(people.users) if kind == TaskKind.REVIEW else 1
        task = open_task(
            run_id=context.run_id,
            step_name=context.step_name,
            kind=TaskKind(kind),
            title=str(context.render("title", "") or context.node_id),
            description=str(context.render("description", "") or ""),
            data=context.render("data", {}),
            assignees=people,
            required=int(config.get("required", default_required or 1)),
            due_at=due_at,
            form=dict(config.get("form") or {}),
            comment_required=list(config.get("comment_required") or ()),
            requester=str(context.render("requester", "") or "") or None,
            distinct_from=list(config.get("distinct_from") or ()),
            any_rejection_rejects=bool(config.get("any_rejection_rejects", True)),
            clock={
                "reminder_seconds": parse_duration(config["reminder"])
                if "reminder" in config
                else None,
                "escalate_to": config.get("escalate_to") or {},
                "escalation_seconds": parse_duration(
                    config.get("escalation_timeout", config.get("timeout", 0))
                ),
                "calendar": calendar.as_json() if calendar else None,
            },
        )
        return NodeResult(output={"task": task.pk})

    return execute


def _task_phases(config: Mapping[str, Any]) -> list[tuple[float | None, str]]:
    """Each phase waits for the decision; its timeout reminds, escalates or expires the task."""
    timeout = parse_duration(config["timeout"]) if "timeout" in config else None
    reminder = parse_duration(config["reminder"]) if "reminder" in config else None
    escalation = config.get("escalation_timeout", config.get("timeout"))
    return task_phases(
        timeout,
        reminder,
        "escalate_to" in config,
        parse_duration(escalation) if escalation is not None else None,
    )


def _wait_for_decision(waiting: WaitContext, state: dict[str, Any]) -> Wait:
    # The wait ends from the task's own rows when it is decided (engine.human), never from
    # an event; the last phase's deadline closes the task in the same transaction.
    phase = state["phase"]
    seconds, then = state["phases"][phase]
    wait_name = phase_wait_name(waiting.name, phase)
    context = current_context()
    assert context is not None
    config = waiting.config
    calendar = business_calendar(config["calendar"]) if config.get("calendar") else None
    entry = context.begin_pending_task(
        state["task"], wait_name, seconds, closes=then == "expire", calendar=calendar
    )
    return Wait(Pending(entry.seq, wait_name), state)


def _ask(waiting: WaitContext, prepared: Any) -> Wait | Leave:
    phases = _task_phases(waiting.config)
    return _wait_for_decision(waiting, {"task": prepared["task"], "phases": phases, "phase": 0})


def _decided(waiting: WaitContext, wait: Wait) -> Wait | Leave:
    state, name = wait.state, waiting.name
    task_id = state["task"]
    settled = outcome(wait.pending)
    if settled["outcome"] == "timeout":
        then = state["phases"][state["phase"]][1]
        if then == "remind":
            remind_task.named(f"{name}:remind")(task_id)
        elif then == "escalate":
            people = dict(waiting.config["escalate_to"])
            escalate_task.named(f"{name}:escalate")(task_id, people)
        else:
            expire_task.named(f"{name}:expire")(task_id)
            timed_out = {"task": task_id, "outcome": "timeout", "decisions": settled["decisions"]}
            return Leave(timed_out, "timeout")
        return _wait_for_decision(waiting, {**state, "phase": state["phase"] + 1})
    decided = str(settled["outcome"])
    return Leave({"task": task_id, "outcome": decided, "decisions": settled["decisions"]}, decided)


def _decision_schema(_: Mapping[str, Any]) -> dict[str, Any]:
    """What the node leaves with once the task settles (see _wait_for_decision)."""
    return {
        "type": "object",
        "properties": {
            "task": {"type": "integer", "description": "The task's id"},
            "outcome": {"type": "string", "description": "The decision, or 'timeout'"},
            "decisions": {"type": "array", "description": "Each person's decision"},
        },
    }


def _withdraw(waiting: WaitContext, opened: Mapping[str, Any]) -> None:
    # Nobody should be asked to decide what no longer matters.
    withdraw_task.named(f"{waiting.name}:withdraw")(opened["task"])


_ASKS = Suspends(begin=_ask, resume=_decided, withdraw=_withdraw)


def _check_people(field: str) -> Any:
    def check(node: str, config: Mapping[str, Any], world: CheckContext) -> list[Problem]:
        people = config.get(field) or {}
        users, groups = people.get("users", []), people.get("groups", [])
        problems = []
        if not users and not groups:
            problems.append(Problem(node, f"config.{field}", "name at least one user or group"))
        problems += [
            Problem(node, f"config.{field}.users", f"no user called {name!r}")
            for name in users
            if isinstance(name, str) and not world.user_exists(name)
        ]
        problems += [
            Problem(node, f"config.{field}.groups", f"no group called {name!r}")
            for name in groups
            if isinstance(name, str) and not world.group_exists(name)
        ]
        required = config.get("required")
        if (
            field == "assignees"
            and isinstance(required, int)
            and not groups
            and required > len(users)
        ):
            problems.append(
                Problem(node, "config.required", f"{required} approvals from {len(users)} users")
            )
        problems += [
            Problem(node, f"config.form.{where}" if where else "config.form", message)
            for where, message in form_problems(config.get("form"))
        ]
        problems += [
            Problem(node, f"config.calendar.{where}", message)
            for where, message in calendar_problems(config.get("calendar"))
        ]
        reminder, timeout = config.get("reminder"), config.get("timeout")
        if reminder is not None and timeout is None:
            problems.append(Problem(node, "config.reminder", "a reminder needs a timeout"))
        elif reminder is not None and timeout is not None:
            try:
                if parse_duration(reminder) >= parse_duration(timeout):
                    problems.append(
                        Problem(
                            node, "config.reminder", "the reminder must come before the timeout"
                        )
                    )
            except ValueError:
                pass  # the schema reports the malformed duration
        return problems

    return check


_COMMON = {
    "title": {"type": "string", "title": "Title", "description": "Shown in the inbox; a template."},
    "description": {"type": "string", "title": "Description"},
    "data": {"type": "object", "title": "Details", "description": "Shown to the people deciding."},
    "timeout": {**TIMEOUT_SCHEMA, "title": "Timeout"},
    "reminder": {**TIMEOUT_SCHEMA, "title": "Remind after"},
    "requester": {
        "type": "string",
        "title": "Requester",
        "maxLength": 1000,
        "description": "A template naming the user who asked (e.g. {{ input.employee }}): "
        "they may not decide, nor may whoever started the run.",
    },
    "distinct_from": {
        "type": "array",
        "title": "Decided by someone else than",
        "items": {"type": "string"},
        "maxItems": 20,
        "uniqueItems": True,
        "description": "Earlier approval or review steps: whoever decided one of them in the "
        "run may not decide this one (four-eyes).",
    },
    "form": {
        "type": "object",
        "title": "Form",
        "description": "Fields the approver fills in (a JSON Schema object of text, number, "
        "whole number or yes/no fields); each decision's output carries them.",
    },
    "calendar": {
        "type": "object",
        "title": "Business hours",
        "description": "Count the timeout, reminder and escalation in working time: "
        "timezone, days (mon..sun), start and end (09:00, 17:00), holidays (dates).",
        "properties": {
            "timezone": {"type": "string", "title": "Time zone"},
            "days": {
                "type": "array",
                "title": "Working days",
                "items": {
                    "type": "string",
                    "enum": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
                },
                "uniqueItems": True,
            },
            "start": {
                "type": "string",
                "title": "Day starts",
                "pattern": "^[0-2][0-9]:[0-5][0-9]$",
            },
            "end": {"type": "string", "title": "Day ends", "pattern": "^[0-2][0-9]:[0-5][0-9]$"},
            "holidays": {
                "type": "array",
                "title": "Holidays",
                "items": {"type": "string", "format": "date"},
                "maxItems": 400,
            },
        },
        "additionalProperties": False,
    },
    "comment_required": {
        "type": "array",
        "title": "Comment needed for",
        "items": {"type": "string", "enum": ["approved", "changes", "rejected"]},
        "uniqueItems": True,
        "description": "Answers that must say why, e.g. rejected.",
    },
}

register(
    NodeType(
        type="human.approval",
        group="human",
        title="Approval",
        description="Asks users or groups to approve; waits, reminds, escalates, times out.",
        config_schema={
            "type": "object",
            "additionalProperties": False,
            "required": ["assignees"],
            "properties": {
                **_COMMON,
                "assignees": {**PEOPLE_SCHEMA, "title": "Assignees"},
                "required": {
                    "type": "integer",
                    "minimum": 1,
                    "default": 1,
                    "title": "Approvals needed",
                },
                "escalate_to": {**PEOPLE_SCHEMA, "title": "Escalate to"},
                "escalation_timeout": {**TIMEOUT_SCHEMA, "title": "Escalation timeout"},
                "any_rejection_rejects": {
                    "type": "boolean",
                    "default": True,
                    "title": "One rejection rejects",
                    "description": "Off: rejected only once too few people are left to approve.",
                },
            },
        },
        outputs=("approved", "rejected", "timeout"),
        templates=("title", "description", "data", "requester"),
        execute=_open("approval"),
        check=_check_people("assignees"),
        icon="check",
        suspends=_ASKS,
        side_effects=True,
        output_schema=_decision_schema,
    )
)

register(
    NodeType(
        type="human.review",
        group="human",
        title="Review",
        description="Several reviewers decide in parallel: approved, changes or rejected.",
        config_schema={
            "type": "object",
            "additionalProperties": False,
            "required": ["reviewers"],
            "properties": {
                **_COMMON,
                "reviewers": {**PEOPLE_SCHEMA, "title": "Reviewers"},
                "required": {
                    "type": "integer",
                    "minimum": 1,
                    "title": "Reviews needed",
                    "description": "Default: one per named user.",
                },
            },
        },
        outputs=("approved", "changes", "rejected", "timeout"),
        templates=("title", "description", "data", "requester"),
        execute=_open("review"),
        check=_check_people("reviewers"),
        icon="eye",
        suspends=_ASKS,
        side_effects=True,
        output_schema=_decision_schema,
    )
)
