"""What a step attempt worked from, kept beside its result for people (never read by replay).

A code step's input is its arguments; a graph node's is its config as rendered from the run's
scope (engine.graph.program.run_node notes it, secrets still as `[secret NAME]` markers). The
journal keeps it bounded: a larger input keeps the start of its JSON text and says its full size.
"""

import json
from typing import Any

__all__ = ["bounded_input", "code_step_input"]


def code_step_input(args: Any, kwargs: Any) -> dict[str, Any]:
    return {"args": list(args), "kwargs": dict(kwargs)}


def bounded_input(value: Any, limit: int) -> Any:
    """`value` as JSON if its UTF-8 text fits in `limit` bytes, else a visible cut of it:
    `{"cut": true, "size": <bytes in full>, "note": …, "start": <the first bytes as text>}`."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    encoded = text.encode()
    if len(encoded) <= limit:
        return json.loads(text)
    return {
        "cut": True,
        "size": len(encoded),
        "note": f"{len(encoded):,} bytes in full; the first {limit:,} are kept",
        "start": encoded[:limit].decode(errors="ignore"),
    }
