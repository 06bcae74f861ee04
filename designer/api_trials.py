"""Designer API for trying a draft: expression checks, test runs, node tests and pins.

Everything here needs EDIT_WORKFLOWS (designers): it reads and runs the unpublished draft.
"""

from typing import Any

from django.contrib.auth.models import User
from django.http import HttpRequest
from ninja import Field, Router, Schema, Status

from accounts.api_auth import require_capability
from accounts.api_bodies import BodyIn
from accounts.roles import Capability
from designer import trials
from designer.api import _graph_workflow

router = Router(tags=["designer: trying drafts"])


class ExpressionCheckIn(BodyIn):
    node: str = Field(description="The id of the node the expression belongs to")
    field: str = Field("", description="The config field (e.g. config.expression)")
    expression: str
    sample: dict[str, Any] | None = Field(
        None,
        description="Values to preview with: a scope ({input, vars, nodes, item, event}) or, "
        "when its keys are not scope names, the input itself. Without it the preview uses the "
        "pinned or last-tested outputs upstream (null when none is known).",
    )


class ExpressionProblemOut(Schema):
    message: str
    position: int | None = Field(description="Character offset in the expression, if known")


class ScopeEntryOut(Schema):
    name: str = Field(description="A name or field path, e.g. input.amount")
    type: str
    doc: str


class ExpressionCheckOut(Schema):
    problems: list[ExpressionProblemOut]
    scope: list[ScopeEntryOut]
    preview: dict[str, Any] | None = Field(description="{value} or {error}, null without data")


class TestRunIn(BodyIn):
    input: Any = Field(default_factory=dict, description="The run's input (default {})")


class TestRunOut(Schema):
    run_id: int
    url: str


class NodeTestIn(BodyIn):
    input: Any = Field(default_factory=dict, description="The run input the node sees")
    confirm: bool = Field(False, description="Run a step with side effects anyway")


class NodeTestOut(Schema):
    output: Any
    error: str | None
    duration_ms: float


class ConfirmOut(Schema):
    needs_confirmation: bool
    message: str


class PinIn(BodyIn):
    output: Any = Field(description="Sample output of the node (any JSON, up to 256 kB)")


def _user(request: HttpRequest) -> User | None:
    return request.user if isinstance(request.user, User) else None


@router.post(
    "/workflows/{slug}/draft/expressions/check",
    response=ExpressionCheckOut,
    summary="Problems, names in scope and a preview of a CEL expression at a node of the draft",
)
def check_expression(request: HttpRequest, slug: str, body: ExpressionCheckIn) -> Any:
    require_capability(request, Capability.EDIT_WORKFLOWS)
    workflow = _graph_workflow(slug)
    return trials.check_expression(workflow, body.node, body.expression, body.sample)


@router.post(
    "/workflows/{slug}/draft/test-run",
    response={201: TestRunOut},
    summary="Run the saved draft on the workers as a test run (version 'draft rev N')",
)
def test_run(request: HttpRequest, slug: str, body: TestRunIn) -> Status[Any]:
    require_capability(request, Capability.EDIT_WORKFLOWS)
    run = trials.test_run(_graph_workflow(slug), body.input, _user(request))
    return Status(201, {"run_id": run.pk, "url": f"/runs/{run.pk}/"})


@router.post(
    "/workflows/{slug}/draft/nodes/{node}/test",
    response={200: NodeTestOut, 409: ConfirmOut},
    summary="Run one step of the draft alone; steps with side effects need confirm: true",
)
def test_node(request: HttpRequest, slug: str, node: str, body: NodeTestIn) -> Any:
    require_capability(request, Capability.EDIT_WORKFLOWS)
    workflow = _graph_workflow(slug)
    result = trials.test_node(workflow, node, body.input, confirm=body.confirm)
    return {"output": result.output, "error": result.error, "duration_ms": result.duration_ms}


@router.get(
    "/workflows/{slug}/draft/pins",
    response=dict[str, Any],
    summary="Sample outputs pinned per node id",
)
def list_pins(request: HttpRequest, slug: str) -> dict[str, Any]:
    require_capability(request, Capability.EDIT_WORKFLOWS)
    return dict(_graph_workflow(slug).pins)


@router.put(
    "/workflows/{slug}/draft/pins/{node}",
    response=dict[str, Any],
    summary="Pin a sample output on a node: steps after it are tested with it",
)
def put_pin(request: HttpRequest, slug: str, node: str, body: PinIn) -> dict[str, Any]:
    require_capability(request, Capability.EDIT_WORKFLOWS)
    return trials.pin(_graph_workflow(slug), node, body.output)


@router.delete(
    "/workflows/{slug}/draft/pins/{node}", response={204: None}, summary="Unpin a node's output"
)
def delete_pin(request: HttpRequest, slug: str, node: str) -> Status[None]:
    require_capability(request, Capability.EDIT_WORKFLOWS)
    trials.unpin(_graph_workflow(slug), node)
    return Status(204, None)
