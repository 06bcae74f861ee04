"""Trying a draft before publishing it: expression checks with their scope and a preview, test
runs of the draft, one node tested alone, and sample outputs pinned per node.

Each action checks its input first and changes nothing on a bad one (DesignerError).
"""

import json
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction

from designer.drafts import DesignerError, world
from designer.models import Workflow
from engine.core.cel_check import CelType, check_types, scope_entries
from engine.core.expressions import MAX_EXPRESSION_LENGTH, ExpressionError, compile_expression
from engine.graph.draft_runs import InputRefused, NodeTest, start_test_run, try_node
from engine.graph.format import Graph
from engine.graph.nodes import NodeType, get_node_type
from engine.graph.publishing import GraphRefused
from engine.graph.validate import validate_node_config
from engine.graph.validate.expressions import node_scope, upstream_of
from engine.graph.validate.shape import fits_graph_schema
from engine.models import Run

MAX_SAMPLE_BYTES = 256_000
"""A pinned output, a node test's input or an expression's sample data: JSON at most this big."""

_SCOPE_NAMES = frozenset({"input", "vars", "nodes", "event", "item", "index"})


def _size_checked(value: Any, field: str) -> Any:
    try:
        size = len(json.dumps(value, separators=(",", ":")))
    except (TypeError, ValueError):
        raise DesignerError("must be JSON", field=field) from None
    if size > MAX_SAMPLE_BYTES:
        raise DesignerError(
            f"is {size:,} bytes of JSON; the limit is {MAX_SAMPLE_BYTES:,}", status=413, field=field
        )
    return value


def _draft_graph(workflow: Workflow) -> tuple[Graph, dict[str, NodeType]]:
    if not fits_graph_schema(workflow.draft):
        raise DesignerError("the saved draft is not a graph document; fix its shape", field="draft")
    graph = Graph.from_document(workflow.draft)
    types = {
        node.id: node_type
        for node in reversed(graph.nodes)
        if (node_type := get_node_type(node.type)) is not None
    }
    return graph, types


def _node(graph: Graph, node_id: str) -> Any:
    if node_id not in graph:
        raise DesignerError(f"the draft has no node {node_id!r}", status=404, field="node")
    return graph.node(node_id)


def _known_outputs(workflow: Workflow) -> dict[str, Any]:
    """Each node's sample output: pinned, else its last test's."""
    return {**workflow.test_outputs, **workflow.pins}


def sample_scope(workflow: Workflow, graph: Graph, node_id: str, input: Any) -> dict[str, Any]:
    """What a node tested alone reads: the input given, and the known outputs upstream."""
    known = _known_outputs(workflow)
    upstream = [source for source in upstream_of(graph, node_id) if source in known]
    variables: dict[str, Any] = {}
    for source in reversed(upstream):  # nearest last: its values win, as in a run
        if graph.node(source).type == "flow.set" and isinstance(known[source], dict):
            variables.update(known[source])
    return {
        "input": input,
        "vars": variables,
        "nodes": {source: {"output": known[source]} for source in upstream},
    }


# --- expressions ------------------------------------------------------------------------------


def check_expression(
    workflow: Workflow, node_id: str, expression: str, sample: dict[str, Any] | None
) -> dict[str, Any]:
    """The expression's problems, the names in scope at the node and a preview of its value."""
    if len(expression) > MAX_EXPRESSION_LENGTH:
        raise DesignerError(
            f"must be at most {MAX_EXPRESSION_LENGTH:,} characters", field="expression"
        )
    if sample is not None:
        _size_checked(sample, "sample")
    graph, types = _draft_graph(workflow)
    _node(graph, node_id)
    scope = node_scope(graph, types, node_id)
    entries = scope_entries(scope) + _vars_entries(workflow, graph, node_id)
    problems: list[dict[str, Any]] = []
    compiled = None
    if expression.strip():
        try:
            compiled = compile_expression(expression)
        except ExpressionError as broken:
            problems.append({"message": broken.message, "position": broken.position})
        else:
            problems += [
                {"message": found.message, "position": found.position}
                for found in check_types(expression, scope)
            ]
    preview = None
    values = _preview_scope(workflow, graph, node_id, scope, sample)
    if compiled is not None and values is not None:
        try:
            preview = {"value": compiled.evaluate(values)}
        except ExpressionError as failed:
            preview = {"error": failed.message}
    return {"problems": problems, "scope": entries, "preview": preview}


def _vars_entries(workflow: Workflow, graph: Graph, node_id: str) -> list[dict[str, str]]:
    """vars.<name> for each value the flow.set steps upstream set (vars is open otherwise)."""
    names: dict[str, str] = {}
    for source in upstream_of(graph, node_id):
        node = graph.node(source)
        values = node.config.get("values") if node.type == "flow.set" else None
        if isinstance(values, dict):
            for name in values:
                names.setdefault(str(name), f"set by {node.label or source}")
    return [{"name": f"vars.{name}", "type": "any", "doc": doc} for name, doc in names.items()]


def _preview_scope(
    workflow: Workflow,
    graph: Graph,
    node_id: str,
    scope: dict[str, CelType],
    sample: dict[str, Any] | None,
) -> dict[str, Any] | None:
    """The values to preview with: the sample (a scope, or the input when it is not one), else
    the pinned or tested outputs upstream; None when nothing is known."""
    if sample is not None:
        if sample and set(sample) <= _SCOPE_NAMES:
            return {"vars": {}, "nodes": {}, **sample}
        return {"input": sample, "vars": {}, "nodes": {}}
    known = _known_outputs(workflow)
    triggers = [n.id for n in graph.nodes if n.id in known and n.type.startswith("trigger.")]
    values = sample_scope(workflow, graph, node_id, known[triggers[0]] if triggers else None)
    if values["input"] is None and not values["nodes"]:
        return None
    return {name: value for name, value in values.items() if name in scope}


# --- test runs and node tests ----------------------------------------------------------------


def test_run(workflow: Workflow, input: Any, user: User | None) -> Run:
    """Run the saved draft on the workers as a test run (`draft rev N`, Run.is_test)."""
    _size_checked(input, "input")
    try:
        return start_test_run(
            workflow.slug,
            workflow.title,
            workflow.draft,
            workflow.revision,
            input,
            user=user,
            compensate_on_cancel=workflow.compensate_on_cancel,
            timeout_seconds=workflow.timeout_seconds,
            context=world(),
        )
    except GraphRefused as refused:
        raise DesignerError(
            f"the draft has {len(refused.problems)} problem(s); fix them before a test run",
            field="draft",
            problems=refused.problems,
        ) from None
    except InputRefused as refused:
        raise DesignerError(refused.message, field=refused.field) from None


def test_node(workflow: Workflow, node_id: str, input: Any, *, confirm: bool) -> NodeTest:
    """Run one node of the draft alone, reading pinned or last-tested outputs upstream."""
    _size_checked(input, "input")
    graph, types = _draft_graph(workflow)
    node = _node(graph, node_id)
    node_type = types.get(node_id)
    if node_type is None:
        raise DesignerError(f"unknown node type {node.type!r}", field="type")
    if node_type.suspends is not None:
        raise DesignerError(
            f"a {node_type.title} step waits ({node_type.description.rstrip('.')}); it cannot "
            "be tested alone: test-run the draft instead",
            field="node",
        )
    if node_type.side_effects and not confirm:
        raise DesignerError(
            f"testing this {node_type.title} step really does what it does (calls, sends, "
            "writes); send confirm: true to go ahead",
            status=409,
            field="confirm",
            extra={
                "needs_confirmation": True,
                "message": f"Testing '{node.label or node_id}' has side effects: it really runs.",
            },
        )
    problems = validate_node_config(node.type, node_id, node.config, world())
    if problems:
        raise DesignerError(
            f"the step has {len(problems)} problem(s); fix them first",
            field="config",
            problems=problems,
        )
    result = try_node(
        node_type, node_id, node.config, sample_scope(workflow, graph, node_id, input)
    )
    if result.error is None:
        _remember_output(workflow, node_id, result.output)
    return result


def _remember_output(workflow: Workflow, node_id: str, output: Any) -> None:
    try:
        _size_checked(output, "output")
    except DesignerError:
        return  # too large to keep as sample data; the answer still shows it
    with transaction.atomic():
        locked = Workflow.objects.select_for_update().get(pk=workflow.pk)
        locked.test_outputs = {**locked.test_outputs, node_id: output}
        locked.save(update_fields=["test_outputs"])
    workflow.test_outputs = locked.test_outputs


# --- pins -------------------------------------------------------------------------------------


def pin(workflow: Workflow, node_id: str, output: Any) -> dict[str, Any]:
    """Pin `output` as the node's sample output (kept with the draft, not in the graph)."""
    _node(_draft_graph(workflow)[0], node_id)
    _size_checked(output, "output")
    with transaction.atomic():
        locked = Workflow.objects.select_for_update().get(pk=workflow.pk)
        locked.pins = {**locked.pins, node_id: output}
        locked.save(update_fields=["pins"])
    return dict(locked.pins)


def unpin(workflow: Workflow, node_id: str) -> None:
    with transaction.atomic():
        locked = Workflow.objects.select_for_update().get(pk=workflow.pk)
        if node_id not in locked.pins:
            raise DesignerError(f"nothing is pinned on {node_id!r}", status=404, field="node")
        locked.pins = {key: value for key, value in locked.pins.items() if key != node_id}
        locked.save(update_fields=["pins"])
