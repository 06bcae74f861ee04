"""Test runs: a designer runs a draft before publishing it, on the workers like any run.

The run is pinned to a DraftSnapshot of the draft's revision (version `draft rev N`) and marked
`is_test`; it runs, journals and replays like a run of a published version, but publishes
nothing: no version, no schedule, no event trigger.
"""

import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.contrib.auth.models import User
from django.db import connections, transaction
from django.utils import timezone

from engine.core.deadline import call_with_deadline
from engine.core.durations import check_run_timeout
from engine.core.errors import StepTimeout
from engine.graph.nodes import CheckContext, NodeContext, NodeType, Problem
from engine.graph.program import Program
from engine.graph.publishing import GraphRefused, published_context
from engine.graph.validate import validate_graph
from engine.models import DraftSnapshot, Run
from engine.runtime.inputs import first_input_problem
from engine.runtime.runs import create_run

__all__ = ["MAX_NODE_TEST_SECONDS", "InputRefused", "NodeTest", "start_test_run", "try_node"]

# A node tested alone runs in the web process: it gets this long at most, whatever its timeout.
MAX_NODE_TEST_SECONDS = 30.0


class InputRefused(ValueError):
    """The input does not match the draft's input schema: `field` says where."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def start_test_run(
    slug: str,
    title: str,
    graph: dict[str, Any],
    revision: int,
    input: Any,
    *,
    user: User | None,
    compensate_on_cancel: bool = True,
    timeout_seconds: float | None = None,
    context: CheckContext | None = None,
) -> Run:
    """Start a test run of `graph` (the draft at `revision`); a graph with problems is refused.
    The draft's settings (undo on cancel, run timeout) are those of the revision's first test."""
    timeout_seconds = check_run_timeout(timeout_seconds)
    problems = validate_graph(graph, context or published_context())
    if problems:
        raise GraphRefused(slug, problems)
    schema = Program.from_document(slug, "draft", title, graph).input_schema
    if schema is not None:
        problem = first_input_problem(schema, input)
        if problem is not None:
            raise InputRefused(problem.field, problem.message)
    with transaction.atomic():
        snapshot, created = DraftSnapshot.objects.get_or_create(
            workflow=slug,
            revision=revision,
            defaults={
                "title": title,
                "graph": graph,
                "compensate_on_cancel": compensate_on_cancel,
                "timeout_seconds": timeout_seconds,
                "created_at": timezone.now(),
            },
        )
        if not created and snapshot.graph != graph:
            # A revision names one draft; another graph under it means a save raced this.
            stale = Problem(None, "revision", "the draft changed meanwhile; reload and try again")
            raise GraphRefused(slug, [stale])
        return create_run(
            slug,
            input,
            trigger="manual",
            trigger_ref=f"test of draft rev {revision}",
            created_by=user,
            version=snapshot.version,
            is_test=True,
        )


@dataclass(frozen=True)
class NodeTest:
    output: Any
    error: str | None
    duration_ms: float


def try_node(
    node_type: NodeType, node_id: str, config: Mapping[str, Any], scope: Mapping[str, Any]
) -> NodeTest:
    """Run one node's step once, outside any run, against `scope` (input, vars, nodes).

    The caller decides whether the node may run alone (side effects, waits). A failure is the
    answer, not an error: the designer is shown what went wrong.
    """
    context = NodeContext(
        node_id=node_id,
        config=config,
        scope={**scope, "now": datetime.now(UTC)},
        idempotency_key=f"test:{node_id}:{time.time_ns()}",
        step_name=node_id,
    )
    execute = node_type.execute
    timeout = config.get("timeout")
    limit = min(float(timeout), MAX_NODE_TEST_SECONDS) if timeout else MAX_NODE_TEST_SECONDS
    started = time.perf_counter()
    output: Any = None
    error: str | None = None
    try:
        if execute is not None:
            result = call_with_deadline(
                lambda: execute(context),
                limit,
                f"node {node_id!r}",
                on_thread_exit=connections.close_all,
            )
            output = result.output
    except StepTimeout:
        error = f"the step took longer than {limit:g} seconds"
    except Exception as exc:
        error = str(exc) or type(exc).__name__
    return NodeTest(output, error, round((time.perf_counter() - started) * 1000, 3))
