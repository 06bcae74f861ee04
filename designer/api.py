"""Workflows API: code workflows (read-only) and graph workflows with drafts and versions."""

from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse, JsonResponse
from ninja import Field, Query, Router, Schema, Status
from pydantic import StrictFloat

from accounts.api_auth import require_capability
from accounts.api_bodies import BodyIn
from accounts.api_refusals import FieldError
from accounts.roles import Capability
from designer import drafts
from designer.models import Workflow
from engine.api.paging import cursor_key, page_limit, set_next_page
from engine.core import get_workflow
from engine.core.cursors import encode_cursor
from engine.core.definitions import WorkflowDefinition, all_workflows
from engine.graph.nodes import all_node_types
from engine.graph.nodes.base import ERROR_HANDLING_SCHEMA, NodeType
from engine.graph.publishing import (
    activate_version_triggers,
    latest_version,
    latest_versions,
    live_versions,
)
from engine.graph.resolver import load_program
from engine.models import GraphVersion

router = Router(tags=["workflows"])


class WorkflowOut(Schema):
    slug: str
    kind: str
    title: str
    description: str
    version: str = Field(description="The current published version ('' if none yet)")
    tags: list[str]
    input_schema: dict[str, Any] | None
    timeout_seconds: float | None = Field(
        description="The run timeout in seconds, null for none (code: the workflow's option; "
        "graphs: this setting, copied into each published version)",
    )
    editable: bool
    revision: int | None = Field(default=None, description="Graph workflows: the draft's revision")
    published_version: int | None = None
    is_template: bool = False
    parameters: list[dict[str, Any]] = []
    compensate_on_cancel: bool = Field(
        default=True,
        description="Cancelling a run first runs its compensations (code: the workflow's "
        "option; graphs: this setting, copied into each published version)",
    )
    updated_at: datetime | None = None


class ProblemOut(Schema):
    node: str | None
    field: str | None
    message: str


class WorkflowCreatedOut(WorkflowOut):
    problems: list[ProblemOut]


TIMEOUT_SECONDS_HELP = (
    "The run timeout in seconds (above 0, at most 365 days = 31536000): a run still going "
    "this long after it started is undone as a cancel is and ends timed_out"
)


class WorkflowIn(BodyIn):
    slug: str
    title: str
    description: str = ""
    graph: dict[str, Any] | None = None
    is_template: bool = False
    parameters: list[dict[str, Any]] = []
    compensate_on_cancel: bool = True
    timeout_seconds: StrictFloat | None = Field(default=None, description=TIMEOUT_SECONDS_HELP)


class WorkflowPatch(BodyIn):
    title: str | None = None
    description: str | None = None
    is_template: bool | None = None
    parameters: list[dict[str, Any]] | None = None
    compensate_on_cancel: bool | None = Field(
        default=None,
        description="Whether a cancelled run runs its compensation nodes first; takes effect "
        "with the next published version",
    )
    timeout_seconds: StrictFloat | None = Field(
        default=None,
        description=TIMEOUT_SECONDS_HELP + "; null removes it; takes effect with the next "
        "published version",
    )


class DraftOut(Schema):
    graph: dict[str, Any]
    revision: int
    problems: list[ProblemOut]


class DraftIn(BodyIn):
    graph: dict[str, Any]
    revision: int = Field(description="The revision the edit started from")


class ValidateIn(BodyIn):
    graph: dict[str, Any] | None = Field(None, description="Validate this graph, not the draft")


class ValidationOut(Schema):
    valid: bool
    problems: list[ProblemOut]


class PublishIn(BodyIn):
    note: str = Field("", max_length=2000)


class VersionOut(Schema):
    number: int
    title: str
    note: str
    author: str | None
    published_at: datetime
    triggers_active: bool = Field(
        default=True,
        description="Whether its schedules and event triggers may start runs: a version "
        "published by someone who may not start runs waits for an operator "
        "(POST .../versions/{number}/activate-triggers)",
    )


class VersionDetailOut(VersionOut):
    graph: dict[str, Any]


class InstantiateIn(BodyIn):
    slug: str
    title: str
    parameters: dict[str, Any] = {}


class ImportIn(BodyIn):
    document: dict[str, Any]
    slug: str | None = Field(None, description="Import under another slug")


class NodeTypeOut(Schema):
    type: str
    group: str
    title: str
    description: str
    icon: str
    config_schema: dict[str, Any]
    outputs: list[str] | None = Field(
        description="Output handles ('' is the plain output); null when the config decides"
    )
    error_handling: bool
    is_trigger: bool


def _code_out(definition: WorkflowDefinition) -> WorkflowOut:
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
        compensate_on_cancel=definition.compensate_on_cancel,
    )


def _graph_out(workflow: Workflow, latest: GraphVersion | None = None) -> dict[str, Any]:
    latest = latest or latest_version(workflow.slug)
    program = load_program(workflow.slug, latest.version) if latest else None
    return {
        "slug": workflow.slug,
        "kind": "graph",
        "title": workflow.title,
        "description": workflow.description,
        "version": latest.version if latest else "",
        "tags": ["template"] if workflow.is_template else [],
        "input_schema": program.input_schema if program else None,
        "timeout_seconds": workflow.timeout_seconds,
        "editable": True,
        "revision": workflow.revision,
        "published_version": latest.number if latest else None,
        "is_template": workflow.is_template,
        "parameters": workflow.parameters,
        "compensate_on_cancel": workflow.compensate_on_cancel,
        "updated_at": workflow.updated_at,
    }


def _user(request: HttpRequest) -> User | None:
    return request.user if isinstance(request.user, User) else None


def _graph_workflow(slug: str) -> Workflow:
    workflow = Workflow.objects.filter(slug=slug).first()
    if workflow is None:
        if get_workflow(slug) is not None:
            raise FieldError(409, "slug", f"{slug!r} is a code workflow and cannot be edited")
        raise FieldError(404, "slug", f"no workflow called {slug!r}")
    return workflow


def _problems(problems: list[Any]) -> list[dict[str, Any]]:
    return [problem.as_dict() for problem in problems]


WORKFLOWS_PAGE = 100
MAX_WORKFLOWS_PAGE = 500
WORKFLOWS = "workflows"
"""The scope of the workflow list's cursors (engine/core/cursors.py): the last (slug, kind)."""


@router.get(
    "/workflows",
    response=list[WorkflowOut],
    summary="Workflows, code and graph together, by slug, a page at a time: `limit` (1 to "
    f"{MAX_WORKFLOWS_PAGE}, default {WORKFLOWS_PAGE}), `cursor` from the X-Next-Cursor header "
    "of the previous page (also in Link: rel=next); code workflows are read-only",
)
def list_workflows(
    request: HttpRequest,
    response: HttpResponse,
    kind: str | None = None,
    cursor: str | None = None,
    limit: int | None = None,
) -> list[Any]:
    require_capability(request, Capability.VIEW)
    if kind not in (None, "code", "graph"):
        raise FieldError(422, "kind", "must be 'code' or 'graph'")
    size = page_limit(limit, default=WORKFLOWS_PAGE, most=MAX_WORKFLOWS_PAGE)
    # Ordered by (slug, kind): the cursor holds the last pair, so a page never repeats a row.
    after = tuple(cursor_key(WORKFLOWS, cursor, [str, str])) if cursor else ("", "")
    keyed: list[tuple[tuple[str, str], Any]] = []
    if kind in (None, "code"):
        keyed += [
            ((definition.slug, "code"), definition)
            for definition in all_workflows()
            if (definition.slug, "code") > after
        ]
    if kind in (None, "graph"):
        graphs = Workflow.objects.filter(slug__gte=after[0]).order_by("slug")[: size + 1]
        keyed += [((w.slug, "graph"), w) for w in graphs if (w.slug, "graph") > after]
    keyed = sorted(keyed, key=lambda pair: pair[0])[: size + 1]
    if len(keyed) > size:
        keyed = keyed[:size]
        set_next_page(request, response, encode_cursor(WORKFLOWS, keyed[-1][0]))
    graph_slugs = [key[0] for key, _ in keyed if key[1] == "graph"]
    latest = latest_versions(graph_slugs) if graph_slugs else {}
    return [
        _graph_out(item, latest.get(item.slug)) if key[1] == "graph" else _code_out(item)
        for key, item in keyed
    ]


@router.post(
    "/workflows",
    response={201: WorkflowCreatedOut},
    summary="Create a graph workflow (an empty draft unless a graph is given)",
)
def create_workflow(request: HttpRequest, body: WorkflowIn) -> Status[Any]:
    require_capability(request, Capability.EDIT_WORKFLOWS)
    workflow, problems = drafts.create_workflow(
        slug=body.slug,
        title=body.title,
        user=_user(request),
        description=body.description,
        graph=body.graph,
        is_template=body.is_template,
        parameters=body.parameters,
        compensate_on_cancel=body.compensate_on_cancel,
        timeout_seconds=body.timeout_seconds,
    )
    return Status(201, {**_graph_out(workflow), "problems": _problems(problems)})


@router.post(
    "/workflows/import",
    response={201: WorkflowCreatedOut},
    summary="Create a workflow from an exported JSON file (validated)",
)
def import_workflow(request: HttpRequest, body: ImportIn) -> Status[Any]:
    require_capability(request, Capability.EDIT_WORKFLOWS)
    workflow, problems = drafts.import_document(body.document, _user(request), body.slug)
    return Status(201, {**_graph_out(workflow), "problems": _problems(problems)})


@router.get("/workflows/{slug}", response=WorkflowOut, summary="One workflow by its slug")
def get_workflow_detail(request: HttpRequest, slug: str) -> Any:
    require_capability(request, Capability.VIEW)
    definition = get_workflow(slug)
    if definition is not None:
        return _code_out(definition)
    return _graph_out(_graph_workflow(slug))


@router.patch(
    "/workflows/{slug}", response=WorkflowOut, summary="Rename, describe, mark as template"
)
def patch_workflow(request: HttpRequest, slug: str, body: WorkflowPatch) -> Any:
    require_capability(request, Capability.EDIT_WORKFLOWS)
    workflow = _graph_workflow(slug)
    changes = body.model_dump(exclude_unset=True)
    return _graph_out(drafts.update_workflow(workflow, _user(request), **changes))


@router.delete(
    "/workflows/{slug}",
    response={204: None},
    summary="Delete a graph workflow; runs already started finish on their version",
)
def delete_workflow(request: HttpRequest, slug: str) -> Status[None]:
    require_capability(request, Capability.EDIT_WORKFLOWS)
    drafts.delete_workflow(_graph_workflow(slug))
    return Status(204, None)


@router.get(
    "/workflows/{slug}/draft", response=DraftOut, summary="The draft graph and its problems"
)
def get_draft(request: HttpRequest, slug: str) -> Any:
    require_capability(request, Capability.VIEW)
    workflow = _graph_workflow(slug)
    return {
        "graph": workflow.draft,
        "revision": workflow.revision,
        "problems": _problems(drafts.problems_of(workflow.draft, slug=slug)),
    }


@router.put(
    "/workflows/{slug}/draft",
    response=DraftOut,
    summary="Save the draft; a stale revision is a 409, never a lost edit",
)
def put_draft(request: HttpRequest, slug: str, body: DraftIn) -> Any:
    require_capability(request, Capability.EDIT_WORKFLOWS)
    draft = drafts.save_draft(_graph_workflow(slug), body.graph, body.revision, _user(request))
    return {"graph": draft.graph, "revision": draft.revision, "problems": _problems(draft.problems)}


@router.post(
    "/workflows/{slug}/validate",
    response=ValidationOut,
    summary="Every problem of the draft (or of the graph sent) at once",
)
def validate(request: HttpRequest, slug: str, body: ValidateIn | None = None) -> Any:
    require_capability(request, Capability.VIEW)
    workflow = _graph_workflow(slug)
    graph = body.graph if body is not None and body.graph is not None else workflow.draft
    problems = drafts.problems_of(graph, slug=slug)
    return {"valid": not problems, "problems": _problems(problems)}


def _version_out(version: GraphVersion) -> dict[str, Any]:
    return {
        "number": version.number,
        "title": version.title,
        "note": version.note,
        "author": version.author.username if version.author else None,
        "published_at": version.published_at,
        "triggers_active": version.triggers_active,
    }


@router.post(
    "/workflows/{slug}/publish",
    response={201: VersionOut},
    summary="Publish the draft as the next immutable version; an invalid draft is refused",
)
def publish(request: HttpRequest, slug: str, body: PublishIn | None = None) -> Status[Any]:
    require_capability(request, Capability.PUBLISH_WORKFLOWS)
    note = body.note if body is not None else ""
    version = drafts.publish(_graph_workflow(slug), _user(request), note)
    return Status(201, _version_out(version))


@router.get("/workflows/{slug}/versions", response=list[VersionOut], summary="Published versions")
def list_versions(request: HttpRequest, slug: str) -> list[dict[str, Any]]:
    require_capability(request, Capability.VIEW)
    workflow = _graph_workflow(slug)
    versions = live_versions(workflow.slug).select_related("author").order_by("-number")
    return [_version_out(version) for version in versions]


@router.get(
    "/workflows/{slug}/versions/{number}",
    response=VersionDetailOut,
    summary="One published version with its graph",
)
def get_version(request: HttpRequest, slug: str, number: int) -> dict[str, Any]:
    require_capability(request, Capability.VIEW)
    workflow = _graph_workflow(slug)
    version = live_versions(workflow.slug).filter(number=number).first()
    if version is None:
        raise FieldError(404, "number", f"{slug!r} has no version {number}")
    return {**_version_out(version), "graph": version.graph}


@router.post(
    "/workflows/{slug}/versions/{number}/activate-triggers",
    response=VersionOut,
    summary="Let a version's schedules and event triggers start runs (operators: they start "
    "runs); the newest active version's triggers are the ones in force",
)
def activate_triggers(request: HttpRequest, slug: str, number: int) -> dict[str, Any]:
    require_capability(request, Capability.START_RUNS)
    workflow = _graph_workflow(slug)
    try:
        version = activate_version_triggers(workflow.slug, number, _user(request))
    except GraphVersion.DoesNotExist:
        raise FieldError(404, "number", f"{slug!r} has no version {number}") from None
    return _version_out(version)


@router.get(
    "/workflows/{slug}/diff",
    summary="Nodes and edges added, removed and changed between two versions (or 'draft')",
)
def diff(
    request: HttpRequest,
    slug: str,
    old: str = Query(..., alias="from", description="A version number or 'draft'"),  # type: ignore[type-arg]
    new: str = Query(..., alias="to", description="A version number or 'draft'"),  # type: ignore[type-arg]
) -> dict[str, Any]:
    require_capability(request, Capability.VIEW)
    return drafts.diff(_graph_workflow(slug), old, new)


@router.get("/workflows/{slug}/export", summary="The workflow as a JSON file to import elsewhere")
def export(request: HttpRequest, slug: str) -> HttpResponse:
    require_capability(request, Capability.VIEW)
    workflow = _graph_workflow(slug)
    response = JsonResponse(drafts.export_document(workflow), json_dumps_params={"indent": 2})
    response["Content-Disposition"] = f'attachment; filename="{workflow.slug}.stepwise.json"'
    return response


@router.post(
    "/workflows/{slug}/instantiate",
    response={201: WorkflowCreatedOut},
    summary="A new workflow from a template, its ${parameters} filled in",
)
def instantiate(request: HttpRequest, slug: str, body: InstantiateIn) -> Status[Any]:
    require_capability(request, Capability.EDIT_WORKFLOWS)
    workflow, problems = drafts.instantiate(
        _graph_workflow(slug),
        slug=body.slug,
        title=body.title,
        values=body.parameters,
        user=_user(request),
    )
    return Status(201, {**_graph_out(workflow), "problems": _problems(problems)})


def node_type_out(node_type: NodeType) -> dict[str, Any]:
    schema = dict(node_type.config_schema)
    if node_type.error_handling:
        schema["properties"] = {**schema.get("properties", {}), **ERROR_HANDLING_SCHEMA}
    return {
        "type": node_type.type,
        "group": node_type.group,
        "title": node_type.title,
        "description": node_type.description,
        "icon": node_type.icon,
        "config_schema": schema,
        "outputs": None if callable(node_type.outputs) else list(node_type.outputs),
        "error_handling": node_type.error_handling,
        "is_trigger": node_type.is_trigger,
    }


@router.get(
    "/node-types",
    response=list[NodeTypeOut],
    summary="The node library: each type's config JSON Schema and output handles",
)
def node_types(request: HttpRequest) -> list[dict[str, Any]]:
    require_capability(request, Capability.VIEW)
    return [node_type_out(node_type) for node_type in all_node_types()]
