"""Drawing a demo graph: node positions on a grid, edges from arrows, input schemas."""

from dataclasses import dataclass
from typing import Any

COLUMN = 240
ROW = 150
MARGIN = 40
"""Canvas coordinates: the width of a column, the height of a row, the space around a graph."""


@dataclass(frozen=True)
class DemoGraph:
    slug: str
    title: str
    description: str
    graph: dict[str, Any]
    timeout_seconds: float | None = None
    """The workflow's run timeout, as its settings page sets it; None: none."""


def node(
    node_id: str,
    node_type: str,
    label: str,
    at: tuple[float, float],
    config: dict[str, Any] | None = None,
) -> dict[str, Any]:
    column, row = at
    return {
        "id": node_id,
        "type": node_type,
        "label": label,
        "config": config or {},
        "position": {"x": column * COLUMN, "y": row * ROW},
    }


def laid_out(nodes: list[dict[str, Any]], edges: list[dict[str, Any]]) -> dict[str, Any]:
    """The graph document, moved so that its top-left node sits at the margin."""
    left = min(placed["position"]["x"] for placed in nodes)
    top = min(placed["position"]["y"] for placed in nodes)
    for placed in nodes:
        position = placed["position"]
        position["x"] = round(position["x"] + MARGIN - left)
        position["y"] = round(position["y"] + MARGIN - top)
    return {"nodes": nodes, "edges": edges}


def edges(*arrows: str) -> list[dict[str, Any]]:
    """Edges from arrows: "a>b" for the normal output, "a>handle>b" for a named one."""
    drawn = []
    for arrow in arrows:
        source, *handle, target = arrow.split(">")
        edge: dict[str, Any] = {"id": arrow, "source": source, "target": target}
        if handle:
            edge["handle"] = handle[0]
        drawn.append(edge)
    return drawn


def object_schema(required: list[str], **properties: Any) -> dict[str, Any]:
    return {
        "type": "object",
        "required": required,
        "properties": properties,
    }


TEXT = {"type": "string", "minLength": 1}
EMAIL = {"type": "string", "format": "email", "minLength": 3}
ITEMS = {
    "type": "array",
    "minItems": 1,
    "items": {
        "type": "object",
        "required": ["sku", "quantity"],
        "properties": {"sku": TEXT, "quantity": {"type": "integer", "minimum": 1}},
    },
}
