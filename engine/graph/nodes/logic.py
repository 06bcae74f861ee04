"""Logic nodes: conditions, switches, loops and the parallel/join pair."""

from collections.abc import Mapping
from typing import Any

from engine.core.durations import DURATION_KEYWORD, MAX_DURATION_SECONDS, parse_duration
from engine.core.expressions import compile_expression, evaluate_condition
from engine.graph.nodes.base import (
    CheckContext,
    JoinRule,
    Loop,
    NodeContext,
    NodeResult,
    NodeType,
    Problem,
    register,
)

MAX_LOOP_ITEMS = 10_000


def _condition(context: NodeContext) -> NodeResult:
    expression = compile_expression(
        context.config["expression"], node=context.node_id, field="expression"
    )
    outcome = evaluate_condition(expression, context.scope)
    return NodeResult(output=outcome, handle="true" if outcome else "false")


def _switch(context: NodeContext) -> NodeResult:
    for index, case in enumerate(context.config.get("cases", [])):
        expression = compile_expression(
            case["when"], node=context.node_id, field=f"cases[{index}].when"
        )
        if evaluate_condition(expression, context.scope):
            return NodeResult(output=case["name"], handle=case["name"])
    return NodeResult(output="default", handle="default")


def _switch_outputs(config: Mapping[str, Any]) -> tuple[str, ...]:
    cases = config.get("cases")
    names = (
        [case.get("name") for case in cases if isinstance(case, dict)]
        if isinstance(cases, list)
        else []
    )
    return (*[name for name in names if isinstance(name, str)], "default")


def _check_switch(node: str, config: Mapping[str, Any], _: CheckContext) -> list[Problem]:
    names = [case.get("name") for case in config.get("cases", []) if isinstance(case, dict)]
    problems = []
    for index, name in enumerate(names):
        if name == "default" or name == "error":
            problems.append(Problem(node, f"config.cases[{index}].name", f"{name!r} is reserved"))
        elif names.index(name) != index:
            problems.append(Problem(node, f"config.cases[{index}].name", f"case {name!r} repeats"))
    return problems


_LOOP = Loop(
    body="body",
    done="done",
    concurrency=lambda config: int(config.get("concurrency", 1)),
    delay=lambda config: parse_duration(config.get("delay", 0)),
)


def _loop(context: NodeContext) -> NodeResult:
    items = context.evaluate("items")
    if not isinstance(items, list):
        raise TypeError(f'node "{context.node_id}", field "items": expected a list, got {items!r}')
    if len(items) > MAX_LOOP_ITEMS:
        raise ValueError(f"a loop takes at most {MAX_LOOP_ITEMS:,} items, got {len(items):,}")
    return NodeResult(output={"items": items, "count": len(items)}, handle=_LOOP.body)


def _passthrough(context: NodeContext) -> NodeResult:
    return NodeResult(output=context.scope.get("arrivals"))


def _join_rule(config: Mapping[str, Any], incoming: int) -> JoinRule:
    """`all` waits for every incoming branch (or the ones taken); `any` and `n` go on early."""
    mode = config.get("mode", "all")
    needed = {"any": 1, "n": int(config.get("count", 1))}.get(mode, incoming)
    return JoinRule(needed=needed, abandons_rest=mode in ("any", "n"), strict=mode == "n")


register(
    NodeType(
        type="logic.condition",
        group="logic",
        title="Condition",
        description="Goes one way when the expression is true, the other when false.",
        config_schema={
            "type": "object",
            "additionalProperties": False,
            "required": ["expression"],
            "properties": {
                "expression": {
                    "type": "string",
                    "title": "Condition",
                    "description": "CEL, e.g. input.amount > 1000",
                }
            },
        },
        outputs=("true", "false"),
        expressions=("expression",),
        execute=_condition,
        icon="split",
    )
)

register(
    NodeType(
        type="logic.switch",
        group="logic",
        title="Switch",
        description="Takes the first case whose condition holds, else `default`.",
        config_schema={
            "type": "object",
            "additionalProperties": False,
            "required": ["cases"],
            "properties": {
                "cases": {
                    "type": "array",
                    "title": "Cases",
                    "minItems": 1,
                    "items": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["name", "when"],
                        "properties": {
                            "name": {
                                "type": "string",
                                "title": "Name",
                                "pattern": "^[A-Za-z0-9_-]{1,40}$",
                            },
                            "when": {"type": "string", "title": "When (CEL)"},
                        },
                    },
                }
            },
        },
        outputs=_switch_outputs,
        expressions=("cases[].when",),
        execute=_switch,
        check=_check_switch,
        icon="switch",
    )
)

register(
    NodeType(
        type="logic.loop",
        group="logic",
        title="For each",
        description=(
            "Runs the `body` branch once per item (`item`, `index`), a few at a time, "
            "then leaves by `done` with the list of results."
        ),
        config_schema={
            "type": "object",
            "additionalProperties": False,
            "required": ["items"],
            "properties": {
                "items": {"type": "string", "title": "Items (CEL list)"},
                "concurrency": {
                    "type": "integer",
                    "title": "At a time",
                    "minimum": 1,
                    "maximum": 100,
                    "default": 1,
                },
                "delay": {
                    "type": "number",
                    "title": "Delay between items (seconds)",
                    "minimum": 0,
                    DURATION_KEYWORD: {"maximum": MAX_DURATION_SECONDS},
                    "default": 0,
                },
            },
        },
        outputs=(_LOOP.body, _LOOP.done),
        expressions=("items",),
        execute=_loop,
        icon="repeat",
        loop=_LOOP,
    )
)

register(
    NodeType(
        type="logic.parallel",
        group="logic",
        title="Parallel",
        description="Starts every outgoing branch at once.",
        config_schema={"type": "object", "additionalProperties": False, "properties": {}},
        execute=_passthrough,
        scope_reads=("arrivals",),
        icon="fork",
    )
)

register(
    NodeType(
        type="logic.join",
        group="logic",
        title="Join",
        description="Waits for all, any, or n of its incoming branches; outputs their results.",
        config_schema={
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "mode": {"enum": ["all", "any", "n"], "title": "Wait for", "default": "all"},
                "count": {"type": "integer", "minimum": 1, "title": "n (mode n)"},
            },
        },
        execute=_passthrough,
        scope_reads=("arrivals",),
        icon="merge",
        join=_join_rule,
    )
)
