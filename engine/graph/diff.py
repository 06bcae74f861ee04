"""What changed between two versions of a graph document, by node and edge id."""

from collections.abc import Callable, Mapping
from typing import Any

from engine.graph.format import normalise_handle

__all__ = ["diff_graphs"]

_NODE_KEYS = ("type", "label", "position")
_EDGE_KEYS = ("source", "target", "handle")


def diff_graphs(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """Added, removed and changed nodes and edges of two schema-valid documents, ids sorted.

    A changed node lists its changed config keys (sorted), then `type`, `label` and `position`
    when those differ; a changed edge lists `source`, `target` and `handle`. A missing config
    equals `{}`, a missing label `""`, and a missing, null or empty handle are the same.
    """
    return {
        "nodes": _diff(_by_id(old["nodes"]), _by_id(new["nodes"]), _node_keys),
        "edges": _diff(_by_id(old["edges"]), _by_id(new["edges"]), _edge_keys),
    }


def _by_id(items: list[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    by_id: dict[str, Mapping[str, Any]] = {}
    for item in items:
        by_id.setdefault(item["id"], item)
    return by_id


def _diff(
    old: Mapping[str, Mapping[str, Any]],
    new: Mapping[str, Mapping[str, Any]],
    changed_keys: Callable[[Mapping[str, Any], Mapping[str, Any]], list[str]],
) -> dict[str, list[Any]]:
    changed: list[dict[str, Any]] = []
    for item_id in sorted(old.keys() & new.keys()):
        keys = changed_keys(old[item_id], new[item_id])
        if keys:
            changed.append({"id": item_id, "keys": keys})
    return {
        "added": sorted(new.keys() - old.keys()),
        "removed": sorted(old.keys() - new.keys()),
        "changed": changed,
    }


def _node_keys(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    old_config, new_config = old.get("config", {}), new.get("config", {})
    config_keys = sorted(
        key
        for key in old_config.keys() | new_config.keys()
        if key not in old_config
        or key not in new_config
        or not _same(old_config[key], new_config[key])
    )
    defaults = {"type": None, "label": "", "position": None}
    node_keys = [
        key
        for key in _NODE_KEYS
        if not _same(old.get(key, defaults[key]), new.get(key, defaults[key]))
    ]
    return config_keys + node_keys


def _edge_keys(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    def read(edge: Mapping[str, Any], key: str) -> Any:
        return normalise_handle(edge.get("handle")) if key == "handle" else edge[key]

    return [key for key in _EDGE_KEYS if read(old, key) != read(new, key)]


def _same(a: Any, b: Any) -> bool:
    """JSON equality: 1 equals 1.0, but true is not 1 (Python's == says it is)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return a.keys() == b.keys() and all(_same(a[key], b[key]) for key in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b
