"""Flow nodes: delays, waiting for events, sub-workflows, variables, transforms and the end.

Delays, waits and sub-workflows suspend the run: their steps here only evaluate the config, so
what the node decided is journaled with the run, and their `Suspends` then wait through the
durable API (in the workflow, replayed like any code workflow).
"""

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from engine.core.api import (
    outcome,
    pending_child,
    pending_sleep_until,
    pending_wait_for_any,
    start_child,
)
from engine.core.durations import DURATION_SCHEMA, TIMEOUT_SCHEMA, later, parse_duration
from engine.core.errors import ChildWorkflowFailed, WaitTimeout
from engine.core.triggers import EVENT_TYPE_PATTERN, reserved_event_type_problem
from engine.graph.nodes.base import (
    ERROR,
    RUN_SCOPE,
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

IDENTIFIER = r"^[A-Za-z_][A-Za-z0-9_]{0,63}$"


def _delay(context: NodeContext) -> NodeResult:
    now = context.scope["now"]
    if "until" in context.config:
        until = context.render("until")
        try:
            moment = datetime.fromisoformat(str(until))
        except ValueError:
            raise ValueError(
                f'node "{context.node_id}", field "until": {until!r} is not an ISO 8601 time'
            ) from None
        if moment.tzinfo is None:
            raise ValueError(f'node "{context.node_id}", field "until": give a time zone offset')
    else:
        seconds = parse_duration(context.config.get("duration", 0))
        moment = later(now, seconds, f'node "{context.node_id}", field "duration"')
    return NodeResult(output={"until": moment.isoformat()})


def _check_delay(node: str, config: Mapping[str, Any], _: CheckContext) -> list[Problem]:
    if ("duration" in config) == ("until" in config):
        return [Problem(node, "config.duration", "give either a duration or an until time")]
    return []


def _wait_event(context: NodeContext) -> NodeResult:
    types = context.config["event_types"]
    return NodeResult(
        output={
            "event_types": [types] if isinstance(types, str) else list(types),
            "match": context.render("match"),
            "timeout": (
                parse_duration(context.config["timeout"]) if "timeout" in context.config else None
            ),
        }
    )


def _check_wait_event(node: str, config: Mapping[str, Any], _: CheckContext) -> list[Problem]:
    types = config.get("event_types")
    named = (
        [("config.event_types", types)]
        if isinstance(types, str)
        else [(f"config.event_types[{index}]", name) for index, name in enumerate(types or [])]
    )
    return [
        Problem(node, field, problem)
        for field, name in named
        if (problem := reserved_event_type_problem(name)) is not None
    ]


def _subworkflow(context: NodeContext) -> NodeResult:
    return NodeResult(
        output={"workflow": context.config["workflow"], "input": context.render("input")}
    )


def _check_subworkflow(node: str, config: Mapping[str, Any], world: CheckContext) -> list[Problem]:
    slug = config.get("workflow")
    if isinstance(slug, str) and not world.workflow_exists(slug):
        return [Problem(node, "config.workflow", f"no workflow called {slug!r}")]
    return []


def _sleep(waiting: WaitContext, prepared: Any) -> Wait | Leave:
    until = datetime.fromisoformat(prepared["until"])
    pending = pending_sleep_until(until, name=f"{waiting.name}:sleep")
    return Wait(pending, {"output": prepared})


def _slept(_: WaitContext, wait: Wait) -> Wait | Leave:
    outcome(wait.pending)
    return Leave(wait.state["output"])


def _wait_for_event(waiting: WaitContext, prepared: Any) -> Wait | Leave:
    filter = waiting.config.get("filter")
    pending = pending_wait_for_any(
        prepared["event_types"],
        match=prepared.get("match") or None,
        filter=filter,
        filter_scope=waiting.filter_scope() if filter else None,
        timeout=prepared.get("timeout"),
        name=f"{waiting.name}:wait",
    )
    return Wait(pending)


def _event_came(_: WaitContext, wait: Wait) -> Wait | Leave:
    try:
        return Leave(outcome(wait.pending))
    except WaitTimeout:
        return Leave(None, "timeout")


def _start_child(waiting: WaitContext, prepared: Any) -> Wait | Leave:
    if waiting.config.get("wait", True) is False:
        child = start_child(prepared["workflow"], prepared.get("input"), detached=True)
        return Leave({"run_id": child.run_id})
    child = start_child(prepared["workflow"], prepared.get("input"))
    return Wait(pending_child(child))


def _child_ended(waiting: WaitContext, wait: Wait) -> Wait | Leave:
    try:
        return Leave(outcome(wait.pending))
    except ChildWorkflowFailed as failure:
        if not waiting.has_error_edge:
            raise
        failed = {"run_id": failure.run_id, "status": failure.status, "error": failure.error}
        return Leave(failed, ERROR)


def _set(context: NodeContext) -> NodeResult:
    values = context.render("values", {})
    return NodeResult(output=values, vars=values)


def _transform(context: NodeContext) -> NodeResult:
    return NodeResult(output=context.render("output"))


register(
    NodeType(
        type="flow.delay",
        group="flow",
        title="Delay",
        description="Waits durably for a duration or until a time; holds no worker.",
        config_schema={
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "duration": {**DURATION_SCHEMA, "title": "Duration"},
                "until": {"type": "string", "title": "Until (ISO time, template)"},
            },
        },
        templates=("until",),
        execute=_delay,
        check=_check_delay,
        icon="hourglass",
        suspends=Suspends(begin=_sleep, resume=_slept),
    )
)

register(
    NodeType(
        type="flow.wait_event",
        group="flow",
        title="Wait for event",
        description="Waits durably for a matching event; leaves by `timeout` if none comes.",
        config_schema={
            "type": "object",
            "additionalProperties": False,
            "required": ["event_types"],
            "properties": {
                "event_types": {
                    "title": "Event types",
                    "anyOf": [
                        {"type": "string", "pattern": EVENT_TYPE_PATTERN},
                        {
                            "type": "array",
                            "minItems": 1,
                            "items": {"type": "string", "pattern": EVENT_TYPE_PATTERN},
                        },
                    ],
                },
                "match": {
                    "type": "object",
                    "title": "Match",
                    "description": "Payload fields the event must have (values are templates).",
                },
                "filter": {
                    "type": "string",
                    "title": "Filter",
                    "description": (
                        "CEL over `event` (the payload), `input`, and `vars`, `nodes`, "
                        "`item` as they were when the wait began."
                    ),
                },
                "timeout": {**TIMEOUT_SCHEMA, "title": "Timeout"},
            },
        },
        outputs=("", "timeout"),
        expressions=("filter",),
        templates=("match",),
        execute=_wait_event,
        expression_scope=(*RUN_SCOPE, "event"),
        check=_check_wait_event,
        icon="inbox",
        suspends=Suspends(begin=_wait_for_event, resume=_event_came),
    )
)

register(
    NodeType(
        type="flow.subworkflow",
        group="flow",
        title="Sub-workflow",
        description="Runs another workflow (graph or code) and waits for its output.",
        config_schema={
            "type": "object",
            "additionalProperties": False,
            "required": ["workflow"],
            "properties": {
                "workflow": {
                    "type": "string",
                    "title": "Workflow",
                    "pattern": "^[a-z0-9][a-z0-9-]{0,99}$",
                },
                "input": {"title": "Input", "description": "Templates shaping the child's input."},
                "wait": {
                    "type": "boolean",
                    "title": "Wait for it",
                    "default": True,
                    "description": "Off: start it detached and go on at once.",
                },
            },
        },
        templates=("input",),
        execute=_subworkflow,
        side_effects=True,
        check=_check_subworkflow,
        icon="layers",
        suspends=Suspends(begin=_start_child, resume=_child_ended),
    )
)

register(
    NodeType(
        type="flow.set",
        group="flow",
        title="Set variables",
        description="Sets workflow variables, read later as vars.<name>.",
        config_schema={
            "type": "object",
            "additionalProperties": False,
            "required": ["values"],
            "properties": {
                "values": {
                    "type": "object",
                    "title": "Values",
                    "propertyNames": {"pattern": IDENTIFIER},
                    "description": "name → value; strings may hold {{ templates }}.",
                }
            },
        },
        templates=("values",),
        execute=_set,
        icon="variable",
    )
)

register(
    NodeType(
        type="flow.transform",
        group="flow",
        title="Transform",
        description="Reshapes data: its output is the template rendered against the scope.",
        config_schema={
            "type": "object",
            "additionalProperties": False,
            "required": ["output"],
            "properties": {
                "output": {"title": "Output", "description": "JSON with {{ templates }}."}
            },
        },
        templates=("output",),
        execute=_transform,
        icon="shuffle",
    )
)

register(
    NodeType(
        type="flow.end",
        group="flow",
        title="End",
        description="Ends the run; its output becomes the run's output.",
        config_schema={
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "output": {"title": "Output", "description": "JSON with {{ templates }}."}
            },
        },
        outputs=(),
        templates=("output",),
        execute=_transform,
        icon="flag",
        ends_run=True,
    )
)
