"""Small builders for graph documents in tests."""

import copy
from typing import Any

from engine.graph.nodes.base import Problem


def node(node_id: str, node_type: str, **config: Any) -> dict[str, Any]:
    return {"id": node_id, "type": node_type, "config": config}


def edge(source: str, target: str, handle: str | None = None, *, id: str = "") -> dict[str, Any]:
    built: dict[str, Any] = {"id": id or f"{source}>{handle or ''}>{target}"[:64]}
    built.update(source=source, target=target)
    if handle is not None:
        built["handle"] = handle
    return built


def document(nodes: list[dict[str, Any]], edges: list[dict[str, Any]]) -> dict[str, Any]:
    return {"nodes": nodes, "edges": edges}


EXPENSE = document(
    [
        node("start", "trigger.manual"),
        node("check", "logic.condition", expression="input.amount > 1000"),
        node(
            "vp",
            "action.python",
            action="ask_vp",
            args={"to": "{{ input.owner }}", "amount": "{{ input.amount }}"},
            retry={"max_attempts": 3},
            timeout=30,
        ),
        node("done", "flow.end", output={"approved": "{{ nodes.vp.output }}"}),
    ],
    [
        edge("start", "check"),
        edge("check", "vp", "true"),
        edge("check", "done", "false"),
        edge("vp", "done"),
    ],
)
"""A small valid graph: manual start, a condition, a Python action and an end."""


def chain(count: int) -> dict[str, Any]:
    """A manual trigger followed by count - 1 transforms in one line (for graphs of any size)."""
    steps = [node("start", "trigger.manual")]
    steps += [node(f"n{index}", "flow.transform", output="1") for index in range(1, count)]
    links = [
        edge("start" if index == 1 else f"n{index - 1}", f"n{index}") for index in range(1, count)
    ]
    return document(steps, links)


def expense() -> dict[str, Any]:
    return copy.deepcopy(EXPENSE)


def where(problems: list[Problem]) -> list[tuple[str | None, str | None]]:
    return [(problem.node, problem.field) for problem in problems]


def only(problems: list[Problem]) -> Problem:
    assert len(problems) == 1, problems
    return problems[0]
