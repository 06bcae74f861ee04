"""Workflows API: code workflows now; canvas workflows join them with the graph editor."""

from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema
from ninja.errors import HttpError

from config.accounts.api_auth import require_capability
from config.accounts.roles import Capability
from engine.core import get_workflow
from engine.core.definitions import WorkflowDefinition
from engine.definitions import code_workflows

router = Router(tags=["workflows"])


class WorkflowOut(Schema):
    slug: str
    kind: str
    title: str
    description: str
    version: str
    tags: list[str]
    input_schema: dict[str, Any] | None
    timeout_seconds: float | None
    editable: bool


def _described(definition: WorkflowDefinition) -> WorkflowOut:
    return WorkflowOut(
        slug=definition.slug,
        kind="code",
        title=definition.title,
        description=definition.description,
        version=definition.version,
        tags=list(definition.tags),
        input_schema=definition.input_schema,
        timeout_seconds=definition.timeout,
        editable=False,
    )


@router.get(
    "/workflows",
    response=list[WorkflowOut],
    summary="Every workflow; code workflows have kind 'code' and are read-only",
)
def list_workflows(request: HttpRequest, kind: str | None = None) -> list[WorkflowOut]:
    require_capability(request, Capability.VIEW)
    if kind not in (None, "code", "graph"):
        raise HttpError(422, "kind: must be 'code' or 'graph'")
    if kind == "graph":
        return []
    return [_described(definition) for definition in code_workflows()]


@router.get("/workflows/{slug}", response=WorkflowOut, summary="One workflow by its slug")
def get_workflow_detail(request: HttpRequest, slug: str) -> WorkflowOut:
    require_capability(request, Capability.VIEW)
    definition = get_workflow(slug)
    if definition is None:
        raise HttpError(404, f"slug: no workflow called {slug!r}")
    return _described(definition)
