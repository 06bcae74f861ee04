"""Trigger nodes: where a graph starts. Each passes the run's input on as its output."""

from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from engine.core.cron import CronError, parse_cron
from engine.core.durations import DURATION_KEYWORD, MAX_DURATION_SECONDS
from engine.core.priority import MAX_PRIORITY
from engine.core.triggers import EVENT_TYPE_PATTERN, reserved_event_type_problem
from engine.graph.nodes.base import (
    CheckContext,
    NodeContext,
    NodeResult,
    NodeType,
    Problem,
    register,
)

PRIORITY_SCHEMA = {
    "type": "integer",
    "title": "Priority",
    "minimum": -MAX_PRIORITY,
    "maximum": MAX_PRIORITY,
    "default": 0,
    "description": f"Of the runs it starts, -{MAX_PRIORITY} (last) to {MAX_PRIORITY} (first): "
    "it orders them behind a workflow cap and at bulkheads.",
}


def pass_input(context: NodeContext) -> NodeResult:
    return NodeResult(output=context.scope.get("input"))


def _input_schema(config: Mapping[str, Any]) -> dict[str, Any] | None:
    schema = config.get("input_schema")
    return dict(schema) if isinstance(schema, Mapping) else None


def _check_manual(node: str, config: Mapping[str, Any], _: CheckContext) -> list[Problem]:
    schema = config.get("input_schema")
    if schema is None:
        return []
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as error:
        return [Problem(node, "config.input_schema", f"not a valid JSON Schema: {error.message}")]
    return []


def _check_schedule(node: str, config: Mapping[str, Any], _: CheckContext) -> list[Problem]:
    problems = []
    cron = config.get("cron")
    if cron is not None:
        try:
            parse_cron(cron)
        except CronError as error:
            problems.append(Problem(node, "config.cron", str(error)))
    if (cron is None) == (config.get("interval") is None):
        problems.append(
            Problem(node, "config.cron", "give either a cron expression or an interval")
        )
    zone = config.get("timezone", "UTC")
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(Problem(node, "config.timezone", f"unknown time zone {zone!r}"))
    return problems


def _check_event(node: str, config: Mapping[str, Any], _: CheckContext) -> list[Problem]:
    return [
        Problem(node, f"config.event_types[{index}]", problem)
        for index, name in enumerate(config.get("event_types") or [])
        if (problem := reserved_event_type_problem(name)) is not None
    ]


register(
    NodeType(
        type="trigger.manual",
        group="triggers",
        title="Manual start",
        description="Started by a person (the Run button) or the API, with an input form.",
        config_schema={
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "input_schema": {
                    "type": "object",
                    "title": "Input schema",
                    "description": "JSON Schema the run's input must match.",
                }
            },
        },
        execute=pass_input,
        scope_reads=("input",),
        check=_check_manual,
        is_trigger=True,
        icon="play",
        default_start=True,
        input_schema=_input_schema,
        output_schema=_input_schema,
    )
)

register(
    NodeType(
        type="trigger.event",
        group="triggers",
        title="On event",
        description="Started when an event of one of these types arrives (e.g. Order.created).",
        config_schema={
            "type": "object",
            "additionalProperties": False,
            "required": ["event_types"],
            "properties": {
                "event_types": {
                    "type": "array",
                    "title": "Event types",
                    "minItems": 1,
                    "items": {"type": "string", "pattern": EVENT_TYPE_PATTERN},
                    "description": "Semantic names, Noun.verb: Order.created.",
                },
                "filter": {
                    "type": "string",
                    "title": "Filter",
                    "description": "CEL over `event`: only matching events start a run.",
                },
                "debounce": {
                    "type": "object",
                    "title": "Debounce",
                    "description": "Of the events with one key inside the window, only the "
                    "last starts a run, once the window passes without another.",
                    "additionalProperties": False,
                    "required": ["seconds"],
                    "properties": {
                        "seconds": {
                            "type": "number",
                            "title": "Window (seconds)",
                            "exclusiveMinimum": 0,
                            DURATION_KEYWORD: {"maximum": MAX_DURATION_SECONDS},
                        },
                        "key": {
                            "type": "string",
                            "title": "Key",
                            "description": "CEL over `event`, e.g. event.id; "
                            "without it all events share one window.",
                        },
                    },
                },
                "priority": PRIORITY_SCHEMA,
            },
        },
        expressions=("filter", "debounce.key"),
        expression_scope=("event",),
        execute=pass_input,
        scope_reads=("input",),
        check=_check_event,
        is_trigger=True,
        icon="bolt",
        started_by=("event", "debounce"),
    )
)

register(
    NodeType(
        type="trigger.schedule",
        group="triggers",
        title="On schedule",
        description="Started by a cron expression or an interval, in a time zone.",
        config_schema={
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "cron": {"type": "string", "title": "Cron", "description": "0 9 * * 1-5, @daily"},
                "interval": {
                    "type": "number",
                    "title": "Interval (seconds)",
                    "minimum": 1,
                    # One bound, the graph's for every duration (a year); a published
                    # schedule sits within code's and the admin's (366 days) anyway.
                    DURATION_KEYWORD: {"maximum": MAX_DURATION_SECONDS},
                },
                "timezone": {"type": "string", "title": "Time zone", "default": "UTC"},
                "input": {"title": "Input", "description": "The input each run starts with."},
                "priority": PRIORITY_SCHEMA,
            },
        },
        execute=pass_input,
        scope_reads=("input",),
        check=_check_schedule,
        is_trigger=True,
        icon="clock",
        started_by=("schedule",),
    )
)

register(
    NodeType(
        type="trigger.webhook",
        group="triggers",
        title="On webhook",
        description="Started by a signed delivery to /hooks/<endpoint>.",
        config_schema={
            "type": "object",
            "additionalProperties": False,
            "required": ["endpoint"],
            "properties": {
                "endpoint": {
                    "type": "string",
                    "title": "Endpoint",
                    "pattern": "^[a-z0-9][a-z0-9-]{0,99}$",
                },
                "input": {
                    "title": "Input",
                    "description": "Templates over `event` (the delivery) shaping the run input.",
                },
                "priority": PRIORITY_SCHEMA,
            },
        },
        templates=("input",),
        execute=pass_input,
        scope_reads=("input",),
        is_trigger=True,
        icon="link",
        started_by=("webhook",),
    )
)
