import json
from typing import Any

from django.contrib.auth.models import User
from django.db.models import Max, OuterRef, Subquery
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from config.accounts.roles import Capability, can, require
from designer import panel
from designer import workflows as actions
from designer.api import node_type_out
from designer.models import Workflow
from engine.core import get_workflow
from engine.definitions import code_workflows
from engine.graph.nodes import Problem, all_node_types, get_node_type
from engine.graph.validate import config_schema, validate_node_config
from engine.models import GraphVersion

PANEL_EVENT = "stepwise:node-updated"


def _listing(request: HttpRequest, status: int = 200, **extra: Any) -> HttpResponse:
    newest = GraphVersion.objects.filter(workflow=OuterRef("slug"), retired=False)
    graph_workflows = Workflow.objects.annotate(
        published=Subquery(newest.values("workflow").annotate(n=Max("number")).values("n")[:1])
    )
    context = {
        "code_workflows": code_workflows(),
        "graph_workflows": graph_workflows,
        "templates": [workflow for workflow in graph_workflows if workflow.is_template],
        "can_edit": can(request.user, Capability.EDIT_WORKFLOWS),
        **extra,
    }
    return render(request, "designer/index.html", context, status=status)


@require_GET
def index(request: HttpRequest) -> HttpResponse:
    return _listing(request)


def _user(request: HttpRequest) -> User | None:
    return request.user if isinstance(request.user, User) else None


@require_POST
def new_workflow(request: HttpRequest) -> HttpResponse:
    """Create an empty workflow, or one from a template, and open it on the canvas."""
    require(request.user, Capability.EDIT_WORKFLOWS)
    slug, title = request.POST.get("slug", "").strip(), request.POST.get("title", "").strip()
    template_slug = request.POST.get("template", "")
    try:
        if template_slug:
            template = Workflow.objects.filter(slug=template_slug, is_template=True).first()
            if template is None:
                raise actions.DesignerError("no such template", field="template")
            workflow, _ = actions.instantiate(
                template, slug=slug, title=title, values={}, user=_user(request)
            )
        else:
            workflow, _ = actions.create_workflow(slug=slug, title=title, user=_user(request))
    except actions.DesignerError as error:
        return _listing(request, status=422, new_error=str(error), new_values=request.POST)
    return HttpResponseRedirect(reverse("designer-canvas", args=[workflow.slug]))


@require_POST
def import_workflow(request: HttpRequest) -> HttpResponse:
    """Create a workflow from an exported JSON file."""
    require(request.user, Capability.EDIT_WORKFLOWS)
    upload = request.FILES.get("document")
    try:
        if upload is None:
            raise actions.DesignerError("choose an exported .json file", field="document")
        if upload.size is not None and upload.size > 5_000_000:
            raise actions.DesignerError("the file is larger than 5 MB", field="document")
        try:
            document = json.loads(upload.read())
        except ValueError as error:
            raise actions.DesignerError(f"not JSON ({error})", field="document") from None
        slug = request.POST.get("slug", "").strip() or None
        workflow, _ = actions.import_document(document, _user(request), slug)
    except actions.DesignerError as error:
        return _listing(request, status=422, import_error=str(error))
    return HttpResponseRedirect(reverse("designer-canvas", args=[workflow.slug]))


@require_GET
def canvas(request: HttpRequest, slug: str) -> HttpResponse:
    """The canvas for a graph workflow; a code workflow's page is read-only."""
    workflow = Workflow.objects.filter(slug=slug).first()
    if workflow is None:
        definition = get_workflow(slug)
        if definition is None:
            return render(request, "designer/missing.html", {"slug": slug}, status=404)
        return render(request, "designer/code_workflow.html", {"definition": definition})
    latest = actions.latest_version(workflow.slug)
    manual = next(
        (node for node in workflow.draft.get("nodes", []) if node.get("type") == "trigger.manual"),
        None,
    )
    boot = {
        "slug": workflow.slug,
        "title": workflow.title,
        "graph": workflow.draft,
        "revision": workflow.revision,
        "problems": [problem.as_dict() for problem in actions.problems_of(workflow.draft)],
        "nodeTypes": [node_type_out(node_type) for node_type in all_node_types()],
        "publishedVersion": latest.number if latest else None,
        "inputSchema": (manual or {}).get("config", {}).get("input_schema"),
        "csrf": get_token(request),
        "can": {
            "edit": can(request.user, Capability.EDIT_WORKFLOWS),
            "publish": can(request.user, Capability.PUBLISH_WORKFLOWS),
            "run": can(request.user, Capability.START_RUNS),
        },
        "urls": {
            "api": "/api/",
            "panel": reverse("designer-panel", args=[workflow.slug]),
            "runs": reverse("runs"),
            "export": f"/api/workflows/{workflow.slug}/export",
        },
    }
    return render(request, "designer/canvas.html", {"workflow": workflow, "boot": boot})


@require_http_methods(["POST"])
def node_panel(request: HttpRequest, slug: str) -> HttpResponse:
    """The side panel of one node: opened with its config, or posted to change it.

    The answer is the re-rendered form; after a change, an HX-Trigger event also carries the
    node's new config, label and problems to the canvas, which patches the node.
    """
    if not Workflow.objects.filter(slug=slug).exists():
        return HttpResponse(f"No workflow called {slug!r}.", status=404)
    node_id = request.POST.get("node_id", "")
    node_type = get_node_type(request.POST.get("node_type", ""))
    if node_type is None or not node_id:
        return render(request, "designer/panel.html", {"unknown": True}, status=422)
    schema = config_schema(node_type)
    try:
        previous = json.loads(request.POST.get("config") or "{}")
    except ValueError:
        previous = {}
    if not isinstance(previous, dict):
        previous = {}
    label = request.POST.get("label", "")[:200]
    editable = can(request.user, Capability.EDIT_WORKFLOWS)
    opening = request.POST.get("open") == "1" or not editable
    raw: dict[str, str] = {}
    form_problems: list[Problem] = []
    if opening:
        config = previous
    else:
        config, form_problems, raw = panel.config_from_form(schema, request.POST, previous)
    problems = [Problem(node_id, p.field, p.message) for p in form_problems]
    if not form_problems:
        problems = validate_node_config(node_type.type, node_id, config, actions.world())
    context = {
        "slug": slug,
        "node_id": node_id,
        "node_type": node_type,
        "label": label,
        "config_json": json.dumps(config),
        "fields": panel.fields_for(node_type, schema, config, problems, raw),
        "other_problems": panel.other_problems(problems),
        "editable": editable,
        "saved": not opening,
    }
    response = render(request, "designer/panel.html", context)
    if not opening and not form_problems:
        detail = {
            "target": "#canvas",
            "node": node_id,
            "config": config,
            "label": label,
            "problems": [problem.as_dict() for problem in problems],
        }
        response["HX-Trigger"] = json.dumps({PANEL_EVENT: detail})
    return response
