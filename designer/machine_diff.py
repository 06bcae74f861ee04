"""What changed between two versions of a machine document, by state and transition id."""

import json
from collections.abc import Mapping
from typing import Any

__all__ = ["diff_machines"]

_ROWS = ("states", "transitions")


def diff_machines(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """Added, removed and changed states and transitions, ids sorted, and the machine's own
    changed keys (`initial`, `context`, ...).

    A changed row lists the keys whose values differ (sorted); a missing key equals null, so
    `"final": false` and no `final` differ only when one of them is set. Rows without a text
    id (a draft may have them) are left out: nothing names them across versions.
    """
    return {
        "machine": _changed_keys(_top(old), _top(new)),
        **{rows: _diff(_by_id(old.get(rows)), _by_id(new.get(rows))) for rows in _ROWS},
    }


def _top(document: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in document.items() if key not in _ROWS}


def _by_id(rows: Any) -> dict[str, Mapping[str, Any]]:
    by_id: dict[str, Mapping[str, Any]] = {}
    for row in rows if isinstance(rows, list) else []:
        if isinstance(row, Mapping) and isinstance(row.get("id"), str):
            by_id.setdefault(row["id"], row)
    return by_id


def _diff(
    old: Mapping[str, Mapping[str, Any]], new: Mapping[str, Mapping[str, Any]]
) -> dict[str, list[Any]]:
    changed = [
        {"id": row_id, "keys": keys}
        for row_id in sorted(old.keys() & new.keys())
        if (keys := _changed_keys(old[row_id], new[row_id]))
    ]
    return {
        "added": sorted(new.keys() - old.keys()),
        "removed": sorted(old.keys() - new.keys()),
        "changed": changed,
    }


def _changed_keys(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    return sorted(
        key
        for key in old.keys() | new.keys()
        if _canonical(old.get(key)) != _canonical(new.get(key))
    )


def _canonical(value: Any) -> str:
    """JSON text with sorted keys: equal documents compare equal whatever their key order."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))
