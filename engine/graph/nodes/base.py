"""What a node type is: its config schema, its output handles, how it runs and how it moves.

A node type is plain data plus an `execute` function that runs inside a journaled step. Besides
that, it declares what the interpreter must know to walk it (DESIGN): whether it suspends the run
and how it resumes, whether it is a join or a loop, whether it starts or ends a run. The
interpreter asks these declarations and never a type's name, so a new node type is one module.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from engine.core.api import Pending
from engine.core.durations import DURATION_KEYWORD, DURATION_SCHEMA, MAX_DURATION_SECONDS
from engine.core.error_kinds import ERROR_KINDS
from engine.core.expressions import compile_expression
from engine.core.resilience import NAME_PATTERN
from engine.core.retry import Retry
from engine.core.secret_markers import unmark
from engine.core.templates import render_value

NORMAL = ""
"""The handle of a node's single normal output (an edge without `handle`)."""

ERROR = "error"
"""Every node may have an error edge; the interpreter follows it when the node fails for good."""

GROUPS = ("triggers", "actions", "logic", "flow", "human")

RUN_SCOPE = ("input", "vars", "nodes", "now")
"""The names a node's expressions may use while a run walks the graph (plus `item` and `index`
inside a loop's body)."""


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
    rendered: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    """Each config field as rendered or evaluated so far: the node's input for the step panel.
    Shared with copies made by `dataclasses.replace`, so a field rendered with secret markers
    (engine.outbound.secrets) is kept as marked, never with the value."""

    def render(self, field_name: str, default: Any = None) -> Any:
        """The config value with every `{{ expr }}` template rendered against the scope."""
        if field_name not in self.config:
            return default
        value = render_value(
            self.config[field_name], self.scope, node=self.node_id, field=field_name
        )
        self.rendered[field_name] = value
        return value

    def evaluate(self, field_name: str, source: str | None = None) -> Any:
        """Evaluate a CEL expression (the config value, or `source`) against the scope."""
        text = self.config.get(field_name) if source is None else source
        expression = compile_expression(str(text), node=self.node_id, field=field_name)
        value = expression.evaluate(self.scope)
        if source is None:
            self.rendered[field_name] = value
        return value

    def input(self) -> dict[str, Any]:
        """The config with each field rendered so far replaced by what it rendered to, and any
        secret shown as `[secret NAME]`."""
        shown: dict[str, Any] = unmark({**self.config, **self.rendered})
        return shown


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
    secret_granted: Callable[[str], bool] = lambda name: True
    """Whether the workflow being checked holds a grant for the secret (engine.outbound.grants)."""


@dataclass(frozen=True)
class WaitContext:
    """What a suspending node sees while it waits: its config and where it is in the run."""

    node_id: str
    config: Mapping[str, Any]
    name: str
    """Its step name in its loop frame (`send[3]`): the prefix of its waits' names."""
    has_error_edge: bool
    filter_scope: Callable[[], dict[str, Any]]
    """The scope as the wait begins, for a filter that reads `vars`, `nodes` or `item`."""


@dataclass(frozen=True)
class Wait:
    """The node waits for `pending`; `state` comes back to it when the wait settles."""

    pending: Pending
    state: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Leave:
    """The node is done: it leaves by `handle` with `output`."""

    output: Any
    handle: str = NORMAL


@dataclass(frozen=True)
class Suspends:
    """How a node waits durably after its step prepared what it waits for (its output).

    `begin` and `resume` run in the workflow, not in a step: they call the durable API in the
    same order on every replay. `withdraw` undoes what the step opened when a join abandoned the
    node's branch (given the prepared output, or the wait's state).
    """

    begin: Callable[[WaitContext, Any], Wait | Leave]
    resume: Callable[[WaitContext, Wait], Wait | Leave]
    withdraw: Callable[[WaitContext, Mapping[str, Any]], None] | None = None


@dataclass(frozen=True)
class JoinRule:
    """When a join goes on, worked out from its config and its number of incoming edges."""

    needed: int
    """Arrivals that fire it."""
    abandons_rest: bool
    """Once fired, the branches that only lead into it are abandoned."""
    strict: bool
    """Fewer arrivals when nothing else can run is an error rather than a partial join."""


@dataclass(frozen=True)
class Loop:
    """The node runs its `body` branch once per item of its output's `items`, then leaves by
    `done` with the results; `concurrency` and `delay` (seconds) read its config."""

    body: str
    done: str
    concurrency: Callable[[Mapping[str, Any]], int]
    delay: Callable[[Mapping[str, Any]], float]


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
    secret_fields: tuple[str, ...] = ()
    """Template fields that may hold whole `{{ secrets.NAME }}` parts (what a request sends)."""
    execute: Execute | None = None
    # Action nodes take a retry policy, a timeout, a compensation node, a circuit breaker and a
    # rate limit.
    error_handling: bool = False
    check: Check | None = None
    # Triggers start a graph and have no inputs.
    is_trigger: bool = False
    icon: str = ""
    defaults: dict[str, Any] = field(default_factory=dict)
    # --- how the interpreter walks it -----------------------------------------------------
    suspends: Suspends | None = None
    join: Callable[[Mapping[str, Any], int], JoinRule] | None = None
    loop: Loop | None = None
    ends_run: bool = False
    """Its output is the run's output; nothing after it runs."""
    started_by: tuple[str, ...] = ()
    """A trigger: what starts runs here (the run's `trigger`: event, schedule, ...)."""
    default_start: bool = False
    """A trigger: runs started in any other way (by hand, the API, a parent) begin here."""
    input_schema: Callable[[Mapping[str, Any]], dict[str, Any] | None] | None = None
    """A trigger: the JSON Schema of the run's input, from its config."""
    default_retry: Callable[[Mapping[str, Any]], Retry | None] | None = None
    """The retry policy when the config sets none (e.g. the called action's own)."""
    # --- what the designer is told about it -------------------------------------------------
    side_effects: bool = False
    """Running it reaches outside the run (calls, mails, records, tasks): a test asks first."""
    output_schema: Callable[[Mapping[str, Any]], dict[str, Any] | None] | None = None
    """The JSON Schema of its output, from its config, when known: expressions downstream
    are checked against it and autocomplete offers its fields."""
    expression_scope: tuple[str, ...] = RUN_SCOPE
    """The names its CEL fields may use."""
    scope_reads: tuple[str, ...] = ()
    """The scope names `execute` reads itself, not through its expression and template fields
    (a trigger's `input`). Its step is given only the names these and its fields use
    (engine.graph.scope_reads): a name read any other way is missing when the node runs."""

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


def registered_types() -> dict[str, NodeType]:
    """The node types registered so far; engine.graph.nodes.library imports them all."""
    return _types


_NAME = NAME_PATTERN.pattern
ERROR_HANDLING_SCHEMA: dict[str, dict[str, Any]] = {
    "retry": {
        "type": "object",
        "title": "Retry",
        "description": "A failed attempt is tried again after a wait, durably: the run holds "
        "no worker while it waits. Errors that say retrying cannot help are never retried.",
        "additionalProperties": False,
        "x-control": "fields",
        "properties": {
            "max_attempts": {
                "type": "integer",
                "title": "Attempts at most",
                "minimum": 1,
                "maximum": 100,
                "default": 3,
                "description": "The first attempt included: 1 never retries.",
            },
            "backoff": {
                "enum": ["exponential", "linear", "fixed"],
                "title": "Back-off",
                "default": "exponential",
                "description": "exponential: each wait the previous one times the factor; "
                "linear: the first wait times the attempt; fixed: always the first wait.",
            },
            "initial_delay": {**DURATION_SCHEMA, "title": "First wait", "default": "1s"},
            "multiplier": {
                "type": "number",
                "title": "Factor",
                "minimum": 1,
                "maximum": 10,
                "default": 2,
                "description": "Exponential back-off: how much longer each wait is.",
            },
            "max_delay": {**DURATION_SCHEMA, "title": "Longest wait", "default": "5m"},
            "jitter": {
                "type": "number",
                "title": "Jitter",
                "minimum": 0,
                "maximum": 1,
                "default": 0.1,
                "description": "Each wait varies by up to this share of it (0.1: ±10%), so "
                "many runs failing together do not all retry at once.",
            },
            "non_retryable": {
                "type": "array",
                "title": "Never retry after",
                "description": "These errors fail the node at once, without another "
                "attempt. None ticked: every error worth retrying is retried.",
                "items": {"enum": list(ERROR_KINDS)},
                "uniqueItems": True,
                "default": [],
                "x-enum-titles": ERROR_KINDS,
            },
            "retry_on": {
                "type": "array",
                "title": "Retry only after",
                "description": "Only these errors are retried; any other fails the node at "
                "once. None ticked: every error worth retrying is retried. Tick here or under "
                "Never retry after, not both.",
                "items": {"enum": list(ERROR_KINDS)},
                "uniqueItems": True,
                "default": [],
                "x-enum-titles": ERROR_KINDS,
            },
        },
    },
    "timeout": {
        "type": "number",
        "exclusiveMinimum": 0,
        DURATION_KEYWORD: {"maximum": MAX_DURATION_SECONDS},
        "title": "Timeout (seconds)",
        "description": "An attempt that runs longer fails (and may be retried; at most 365 days).",
    },
    "bulkhead": {
        "type": "object",
        "title": "Bulkhead",
        "description": "At most this many steps use the named resource at once, across all "
        "runs and workers; the others wait their turn without holding a worker.",
        "additionalProperties": False,
        "x-control": "fields",  # the side panel shows one input per property (designer.panel)
        "required": ["name"],
        "properties": {
            "name": {
                "type": "string",
                "title": "Resource name",
                "pattern": "^[a-z0-9][a-z0-9._-]{0,99}$",
                "x-pattern-message": "must be lowercase letters, digits, '.', '_' and '-', "
                "starting with a letter or digit (100 at most)",
            },
            "max_concurrent": {
                "type": "integer",
                "title": "At most at once",
                "minimum": 1,
                "maximum": 10000,
            },
        },
    },
    "compensation": {
        "type": "string",
        "title": "Compensation node",
        "description": "The id of a node that undoes this one if the run later fails.",
    },
    "circuit_breaker": {
        "type": "object",
        "title": "Circuit breaker",
        "description": "Fail fast while the named dependency keeps failing (shared by all runs).",
        "additionalProperties": False,
        "x-control": "fields",
        "required": ["name"],
        "properties": {
            "name": {"type": "string", "title": "Dependency name", "pattern": _NAME},
            "failure_threshold": {
                "type": "integer",
                "title": "Failures that open it",
                "minimum": 1,
                "maximum": 10_000,
                "default": 5,
            },
            "window": {**DURATION_SCHEMA, "title": "Within", "default": "60s"},
            "cool_down": {**DURATION_SCHEMA, "title": "Open for", "default": "30s"},
            "half_open_probes": {
                "type": "integer",
                "title": "Probes when half-open",
                "minimum": 1,
                "maximum": 100,
                "default": 1,
            },
        },
    },
    "rate_limit": {
        "type": "object",
        "title": "Rate limit",
        "description": "At most this many calls per period for each key (shared by all runs).",
        "additionalProperties": False,
        "x-control": "fields",
        "required": ["name", "limit", "period"],
        "properties": {
            "name": {"type": "string", "title": "Limit name", "pattern": _NAME},
            "limit": {"type": "integer", "title": "Calls", "minimum": 1, "maximum": 1_000_000},
            "period": {**DURATION_SCHEMA, "title": "Per"},
            "key": {
                "type": "string",
                "title": "Key",
                "maxLength": 500,
                "description": "A template such as {{ input.customer }}; empty: one for all.",
            },
            "on_limit": {
                "enum": ["delay", "fail"],
                "title": "When used up",
                "default": "delay",
                "description": "delay: wait durably for the slot; fail: fail the attempt.",
            },
        },
    },
}
