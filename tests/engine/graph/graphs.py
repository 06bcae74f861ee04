"""A compact way to write graph documents in tests: nodes as tuples, edges as arrows."""

from typing import Any


def graph(nodes: list[tuple[Any, ...]], edges: list[str]) -> dict[str, Any]:
    """nodes: (id, type) or (id, type, config); edges: "a>b" or "a>handle>b"."""
    document: dict[str, Any] = {"nodes": [], "edges": []}
    for index, spec in enumerate(nodes):
        node_id, node_type, *rest = spec
        document["nodes"].append(
            {
                "id": node_id,
                "type": node_type,
                "config": rest[0] if rest else {},
                "position": {"x": 200 * index, "y": 0},
            }
        )
    for index, arrow in enumerate(edges):
        parts = arrow.split(">")
        edge: dict[str, Any] = {"id": f"e{index}", "source": parts[0], "target": parts[-1]}
        if len(parts) == 3:
            edge["handle"] = parts[1]
        document["edges"].append(edge)
    return document
