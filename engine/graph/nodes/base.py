"""What a node type is: its config schema, its output handles and how it runs.

A node type is plain data plus, for the nodes that do work, an `execute` function that runs
inside a journaled step. Nodes that shape the run itself (loops, waits, delays, sub-workflows,
human tasks) have no `execute`: the interpreter drives them through the engine's durable API.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from engine.core.expressions import compile_expression
from engine.core.templates import render_value

NORMAL = ""
"""The handle of a node's single normal output (an edge without `handle`)."""

ERROR = "error"
"""Every node may have an error edge; the interpreter follows it when the node fails for good."""

GROUPS = ("triggers", "actions", "logic", "flow", "human")


@dataclass(frozen=True)
class Problem:
    """One validation finding: which node (None for the whole graph), which field, what is wrong."""

    node: str | None
    field: str | None
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"node": self.node, "field": self.field, "message": self.message}


@dataclass(frozen=True)
class NodeResult:
    """What a node's step returns: its output, the handle to leave by, variables it sets."""

    output: Any = None
    handle: str = NORMAL
    vars: Mapping[str, Any] | None = None

    def as_json(self) -> dict[str, Any]:
        return {"output": self.output, "handle": self.handle, "vars": dict(self.vars or {})}


@dataclass(frozen=True)
class NodeContext:
    """What a node's `execute` sees: its config, the CEL scope and where it runs."""

    node_id: str
    config: Mapping[str, Any]
    scope: Mapping[str, Any]
    run_id: int = 0
    idempotency_key: str = ""
    step_name: str = ""

    def render(self, field_name: str, default: Any = None) -> Any:
        """The config value with every `{{ expr }}` template rendered against the scope."""
        if field_name not in self.config:
            return default
        return render_value(
            self.config[field_name], self.scope, node=self.node_id, field=field_name
        )

    def evaluate(self, field_name: str, source: str | None = None) -> Any:
        """Evaluate a CEL expression (the config value, or `source`) against the scope."""
        text = self.config.get(field_name) if source is None else source
        expression = compile_expression(str(text), node=self.node_id, field=field_name)
        return expression.evaluate(self.scope)


Execute = Callable[[NodeContext], NodeResult]
"""Runs inside a step: may do I/O, must be idempotent (use `idempotency_key` outside)."""

Check = Callable[[str, Mapping[str, Any], "CheckContext"], list[Problem]]


@dataclass(frozen=True)
class CheckContext:
    """What validation may ask of the world beyond the graph (kept out for unit tests)."""

    workflow_exists: Callable[[str], bool] = lambda slug: True
    action_exists: Callable[[str], bool] = lambda name: True
    user_exists: Callable[[str], bool] = lambda username: True
    group_exists: Callable[[str], bool] = lambda name: True


@dataclass(frozen=True)
class NodeType:
    type: str
    group: str
    title: str
    description: str
    config_schema: dict[str, Any]
    outputs: tuple[str, ...] | Callable[[Mapping[str, Any]], tuple[str, ...]] = (NORMAL,)
    # Config paths that hold CEL: "expression", "cases[].when", "values.*" (every value).
    expressions: tuple[str, ...] = ()
    # Config paths whose strings are templates with `{{ expr }}` parts.
    templates: tuple[str, ...] = ()
    execute: Execute | None = None
    # Action nodes take a retry policy, a timeout and a compensation node.
    error_handling: bool = False
    check: Check | None = None
    # Triggers start a graph and have no inputs.
    is_trigger: bool = False
    icon: str = ""
    defaults: dict[str, Any] = field(default_factory=dict)

    def handles(self, config: Mapping[str, Any]) -> tuple[str, ...]:
        """The outputs this node has with this config (the error output is always there)."""
        outputs = self.outputs(config) if callable(self.outputs) else self.outputs
        return (*outputs, ERROR)


_types: dict[str, NodeType] = {}


def register(node_type: NodeType) -> NodeType:
    if node_type.group not in GROUPS:
        raise ValueError(f"node type {node_type.type}: unknown group {node_type.group!r}")
    _types[node_type.type] = node_type
    return node_type


def get_node_type(type_name: str) -> NodeType | None:
    _load_library()
    return _types.get(type_name)


def all_node_types() -> list[NodeType]:
    _load_library()
    return sorted(_types.values(), key=lambda t: (GROUPS.index(t.group), t.type))


def _load_library() -> None:
    # Importing the modules registers their node types.
    from engine.graph.nodes import library  # noqa: F401


ERROR_HANDLING_SCHEMA: dict[str, dict[str, Any]] = {
    "retry": {
        "type": "object",
        "title": "Retry",
        "additionalProperties": False,
        "properties": {
            "max_attempts": {"type": "integer", "minimum": 1, "maximum": 100, "default": 3},
            "backoff": {"enum": ["exponential", "linear", "fixed"], "default": "exponential"},
            "initial_delay": {"type": "number", "minimum": 0, "default": 1},
            "max_delay": {"type": "number", "minimum": 0, "default": 300},
            "jitter": {"type": "number", "minimum": 0, "maximum": 1, "default": 0.1},
        },
    },
    "timeout": {
        "type": "number",
        "exclusiveMinimum": 0,
        "title": "Timeout (seconds)",
        "description": "An attempt that runs longer fails (and may be retried).",
    },
    "compensation": {
        "type": "string",
        "title": "Compensation node",
        "description": "The id of a node that undoes this one if the run later fails.",
    },
}
