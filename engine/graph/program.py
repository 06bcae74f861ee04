"""A graph compiled for running: its nodes with their edges by handle, one step per node.

A `Program` is built from a parsed `format.Graph` and never changes; the resolver keeps one per
published version. Each node runs as a journaled step whose key (`graph:<slug>:<version>:<node>`)
lets a worker running a parallel branch find the same step again.
"""

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

from engine.core.bulkheads import Bulkhead
from engine.core.context import current_logbook, current_step, guard_attempt
from engine.core.deadline import call_with_deadline
from engine.core.definitions import StepDefinition
from engine.core.errors import NonRetryableError, WorkflowError, describe_exception
from engine.core.expressions import ExpressionError
from engine.core.resilience import BreakerSpec, RateLimitSpec
from engine.core.retry import NO_RETRY, Retry, retry_from_config
from engine.graph.format import Graph
from engine.graph.nodes.base import ERROR, JoinRule, NodeContext, NodeResult, NodeType
from engine.graph.nodes.library import get_node_type
from engine.graph.scope_reads import WHOLE_SCOPE, ScopeReads, scope_reads


class GraphError(WorkflowError):
    """The graph cannot go on (e.g. a join that can never be satisfied)."""


class ExpressionFailed(NonRetryableError):
    """A node's expression or template failed on the data it was given."""


@dataclass(frozen=True)
class CompiledNode:
    id: str
    type: NodeType
    config: Mapping[str, Any]
    order: int
    edges: Mapping[str, tuple[str, ...]]
    incoming: int
    retry: Retry
    timeout: float | None
    compensation: str | None
    bulkhead: Bulkhead | None = None
    circuit_breaker: BreakerSpec | None = None
    rate_limit: RateLimitSpec | None = None
    reads: ScopeReads = WHOLE_SCOPE
    """The part of the scope its step is given (engine.graph.scope_reads)."""

    @property
    def has_error_edge(self) -> bool:
        return bool(self.edges.get(ERROR))

    def join_rule(self) -> JoinRule | None:
        """When this node goes on if it is a join; None for every other node."""
        join = self.type.join
        return join(self.config, self.incoming) if join is not None else None


def _retry_policy(node_type: NodeType, config: Mapping[str, Any]) -> Retry:
    policy = config.get("retry") if node_type.error_handling else None
    if isinstance(policy, Mapping):
        return retry_from_config(policy)
    default = node_type.default_retry(config) if node_type.default_retry else None
    return default if default is not None else NO_RETRY


def compile_node(
    node_id: str,
    type_name: str,
    config: Mapping[str, Any],
    *,
    order: int = 0,
    edges: Mapping[str, tuple[str, ...]] | None = None,
    incoming: int = 0,
) -> CompiledNode:
    """One node ready to run: its type, retry policy and timeout (a state machine's actions
    are nodes without a graph around them)."""
    node_type = get_node_type(type_name)
    if node_type is None:
        raise GraphError(f"node {node_id!r}: unknown node type {type_name!r}")
    timeout = config.get("timeout") if node_type.error_handling else None
    return CompiledNode(
        id=node_id,
        type=node_type,
        config=config,
        order=order,
        edges=edges or {},
        incoming=incoming,
        retry=_retry_policy(node_type, config),
        timeout=float(timeout) if timeout is not None else None,
        compensation=config.get("compensation") if node_type.error_handling else None,
        bulkhead=_bulkhead(node_type, config),
        circuit_breaker=_option(BreakerSpec, node_type, config, "circuit_breaker"),
        rate_limit=_option(RateLimitSpec, node_type, config, "rate_limit"),
        reads=scope_reads(node_type, config),
    )


def _bulkhead(node_type: NodeType, config: Mapping[str, Any]) -> Bulkhead | None:
    declared = config.get("bulkhead") if node_type.error_handling else None
    if not isinstance(declared, Mapping) or not declared.get("name"):
        return None
    return Bulkhead(str(declared["name"]), declared.get("max_concurrent"))


def _option[S: (BreakerSpec, RateLimitSpec)](
    kind: type[S], node_type: NodeType, config: Mapping[str, Any], key: str
) -> S | None:
    """A node's breaker or rate limit; validation already refused a wrong one."""
    option = config.get(key) if node_type.error_handling else None
    return kind.from_config(option) if option else None


class Program:
    """A published graph, compiled: nodes in document order, their edges and their steps."""

    def __init__(
        self,
        slug: str,
        version: str,
        title: str,
        graph: Graph,
        *,
        compensate_on_cancel: bool = True,
        timeout: float | None = None,
    ) -> None:
        self.slug = slug
        self.version = version
        self.title = title
        self.compensate_on_cancel = compensate_on_cancel
        self.timeout = timeout
        edges: dict[str, dict[str, list[str]]] = {}
        incoming: dict[str, int] = {}
        for edge in graph.edges:
            edges.setdefault(edge.source, {}).setdefault(edge.handle, []).append(edge.target)
            incoming[edge.target] = incoming.get(edge.target, 0) + 1
        self.nodes: dict[str, CompiledNode] = {}
        for order, node in enumerate(graph.nodes):
            self.nodes[node.id] = compile_node(
                node.id,
                node.type,
                node.config or {},
                order=order,
                edges={
                    handle: tuple(targets) for handle, targets in edges.get(node.id, {}).items()
                },
                incoming=incoming.get(node.id, 0),
            )
        self.triggers = [node.id for node in self.nodes.values() if node.type.is_trigger]
        self._steps: dict[str, StepDefinition] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_document(
        cls,
        slug: str,
        version: str,
        title: str,
        document: Mapping[str, Any],
        *,
        compensate_on_cancel: bool = True,
        timeout: float | None = None,
    ) -> "Program":
        """Compile a graph document that passed validation."""
        graph = Graph.from_document(document)
        return cls(
            slug,
            version,
            title,
            graph,
            compensate_on_cancel=compensate_on_cancel,
            timeout=timeout,
        )

    @cached_property
    def input_schema(self) -> dict[str, Any] | None:
        """The run input's JSON Schema, as the first trigger that declares one gives it."""
        for node_id in self.triggers:
            node = self.nodes[node_id]
            if node.type.input_schema is not None:
                return node.type.input_schema(node.config)
        return None

    @cached_property
    def feeders(self) -> dict[str, frozenset[str]]:
        """For each join that abandons the rest once fired: the nodes from which every path
        leads into it and nowhere else. Once such a join fired, work on those nodes can change
        nothing, so their branches are abandoned. Loops never count (their items run in frames
        of their own). Worked out once per compiled version, not on every replay."""
        successors = {
            node_id: {target for targets in node.edges.values() for target in targets}
            for node_id, node in self.nodes.items()
        }
        found: dict[str, frozenset[str]] = {}
        for join_id, join in self.nodes.items():
            rule = join.join_rule()
            if rule is None or not rule.abandons_rest:
                continue
            feeders: set[str] = set()
            grew = True
            while grew:
                grew = False
                for node_id, targets in successors.items():
                    if node_id in feeders or node_id == join_id or not targets:
                        continue
                    if self.nodes[node_id].type.loop is not None:
                        continue
                    if all(target == join_id or target in feeders for target in targets):
                        feeders.add(node_id)
                        grew = True
            found[join_id] = frozenset(feeders)
        return found

    def step_key(self, node_id: str) -> str:
        return f"graph:{self.slug}:{self.version}:{node_id}"

    def step_for(self, node_id: str) -> StepDefinition:
        """The step that runs this node; parallel branches find it again by its key."""
        with self._lock:
            found = self._steps.get(node_id)
            if found is None:
                node = self.nodes[node_id]
                found = StepDefinition(
                    fn=lambda scope: run_node(node, scope),
                    key=self.step_key(node_id),
                    name=node_id,
                    retry=node.retry,
                    bulkhead=node.bulkhead,
                )
                self._steps[node_id] = found
            return found


def parse_step_key(key: str) -> tuple[str, str, str] | None:
    """(slug, version, node id) from a graph step key, or None for other steps."""
    parts = key.split(":")
    if len(parts) != 4 or parts[0] != "graph":
        return None
    return parts[1], parts[2], parts[3]


def run_node(node: CompiledNode, scope: Mapping[str, Any]) -> dict[str, Any]:
    """One attempt of a node, inside its step. With an error edge, the last failure is an output."""
    info = current_step()
    context = NodeContext(
        node_id=node.id,
        config=node.config,
        scope={**scope, "now": datetime.now(UTC)},
        run_id=info.run_id if info else 0,
        idempotency_key=info.idempotency_key if info else "",
        step_name=info.name if info else node.id,
    )
    execute = node.type.execute
    try:
        try:
            # Inside the error edge's reach: it takes a breaker's refusal like any failure,
            # and the breaker counts the failure the edge turns into an output.
            with guard_attempt(node.circuit_breaker, node.rate_limit, scope):
                if execute is None:
                    result = NodeResult()
                elif node.timeout is None:
                    result = execute(context)
                else:
                    result = call_with_deadline(
                        lambda: execute(context),
                        node.timeout,
                        f"node {node.id!r}",
                        on_thread_exit=_close_thread_connections,
                    )
        except ExpressionError as broken:
            # The same data would break the expression again: trying again cannot help.
            raise ExpressionFailed(str(broken)) from broken
    except Exception as exc:
        attempt = info.attempt if info else 1
        if node.has_error_edge and not node.retry.should_retry(exc, attempt):
            return NodeResult(output=describe_exception(exc), handle=ERROR).as_json()
        raise
    finally:
        # The step's arguments are the whole scope; people want what the node made of it.
        logbook = current_logbook()
        if logbook is not None:
            logbook.note_input(context.input())
    return result.as_json()


def _close_thread_connections() -> None:
    """A node run in its own thread (for its timeout) must not leave a database connection open."""
    # Deferred so that programs compile and run without Django (the in-memory test harness).
    try:
        from django.db import connections
    except ImportError:  # pragma: no cover - Django is always installed with the project
        return
    connections.close_all()
