import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.roles import Capability, can, require
from designer import code_pages, drafts, forms, panel
from designer.api import node_type_out
from designer.input_form import input_fields, parse_input
from designer.machine_views import machine_listing
from designer.models import Workflow
from engine.core import get_workflow
from engine.core.definitions import WorkflowDefinition, all_workflows
from engine.graph.nodes import Problem, all_node_types, get_node_type
from engine.graph.publishing import latest_version, published_number
from engine.graph.validate import config_schema, validate_node_config
from engine.resilience.priorities import MAX_PRIORITY, check_priority
from engine.runtime.runs import start_run

PANEL_EVENT = "stepwise:node-updated"


def _listing(request: HttpRequest, status: int = 200, **extra: Any) -> HttpResponse:
    graph_workflows = Workflow.objects.annotate(published=published_number("slug"))
    context = {
        "code_workflows": all_workflows(),
        "graph_workflows": graph_workflows,
        "templates": [workflow for workflow in graph_workflows if workflow.is_template],
        "machines": machine_listing(),
        "can_edit": can(request.user, Capability.EDIT_WORKFLOWS),
        **extra,
    }
    return render(request, "designer/index.html", context, status=status)


@require_GET
def index(request: HttpRequest) -> HttpResponse:
    return _listing(request)


def _user(request: HttpRequest) -> User | None:
    return request.user if isinstance(request.user, User) else None


def _template(slug: str) -> Workflow | None:
    return Workflow.objects.filter(slug=slug, is_template=True).first() if slug else None


@require_GET
def template_fields(request: HttpRequest) -> HttpResponse:
    """The inputs for the chosen template's parameters, swapped into the new-workflow form."""
    require(request.user, Capability.EDIT_WORKFLOWS)
    slug = request.GET.get("template", "")
    template = _template(slug)
    context = {
        "chosen_template": template,
        "template_fields": forms.parameter_fields(template) if template else [],
        "missing_template": slug if slug and template is None else "",
    }
    status = 404 if context["missing_template"] else 200
    return render(request, "designer/index.html#parameter_fields", context, status=status)


@require_POST
def new_workflow(request: HttpRequest) -> HttpResponse:
    """Create an empty workflow, or one from a template with its parameters, and open it.

    Without JavaScript the parameter inputs are not on the page yet: a template that needs a
    value then comes back as a 422 that shows them, and nothing is created.
    """
    require(request.user, Capability.EDIT_WORKFLOWS)
    slug, title = request.POST.get("slug", "").strip(), request.POST.get("title", "").strip()
    template_slug = request.POST.get("template", "")
    template = _template(template_slug)
    try:
        if template_slug:
            if template is None:
                raise drafts.DesignerError("no such template", field="template")
            workflow, _ = drafts.instantiate(
                template,
                slug=slug,
                title=title,
                values=forms.parameter_values(template, request.POST),
                user=_user(request),
            )
        else:
            workflow, _ = drafts.create_workflow(slug=slug, title=title, user=_user(request))
    except drafts.DesignerError as error:
        return _listing(
            request,
            status=422,
            new_error=str(error),
            new_values=request.POST,
            chosen_template=template,
            template_fields=forms.parameter_fields(template, request.POST, error)
            if template
            else [],
        )
    return HttpResponseRedirect(reverse("designer-canvas", args=[workflow.slug]))


@require_POST
def import_workflow(request: HttpRequest) -> HttpResponse:
    """Create a workflow from an exported JSON file."""
    require(request.user, Capability.EDIT_WORKFLOWS)
    upload = request.FILES.get("document")
    try:
        if upload is None:
            raise drafts.DesignerError("choose an exported .json file", field="document")
        if upload.size is not None and upload.size > 5_000_000:
            raise drafts.DesignerError("the file is larger than 5 MB", field="document")
        try:
            document = json.loads(upload.read())
        except (ValueError, RecursionError) as error:
            raise drafts.DesignerError(f"not JSON ({error})", field="document") from None
        slug = request.POST.get("slug", "").strip() or None
        workflow, _ = drafts.import_document(document, _user(request), slug)
    except drafts.DesignerError as error:
        return _listing(
            request,
            status=422,
            import_error=f"Nothing was imported. {error}",
            import_values=request.POST,
        )
    messages.success(request, f"Imported “{workflow.title}” as {workflow.slug}.")
    return HttpResponseRedirect(reverse("designer-canvas", args=[workflow.slug]))


def _settings_page(
    request: HttpRequest,
    workflow: Workflow,
    *,
    status: int = 200,
    error: drafts.DesignerError | None = None,
    rows: list[forms.ParameterRow] | None = None,
    delete_error: str = "",
) -> HttpResponse:
    # After a refused save the form shows what was posted, not what is stored.
    values = request.POST if error else None
    context = {
        "workflow": workflow,
        "title": values.get("title", "") if values else workflow.title,
        "description": values.get("description", "") if values else workflow.description,
        "is_template": bool(values.get("is_template")) if values else workflow.is_template,
        "compensate_on_cancel": (
            bool(values.get("compensate_on_cancel")) if values else workflow.compensate_on_cancel
        ),
        "timeout": (
            forms.posted_duration(values, "timeout")
            if values
            else forms.duration_shown(workflow.timeout_seconds)
        ),
        "duration_units": forms.DURATION_UNITS,
        "rows": rows if rows is not None else forms.rows_of(workflow.parameters),
        "error": error,
        "delete_error": delete_error,
        "export_url": f"/api/workflows/{workflow.slug}/export",
    }
    return render(request, "designer/settings.html", context, status=status)


def _editable_workflow(request: HttpRequest, slug: str) -> Workflow | HttpResponse:
    require(request.user, Capability.EDIT_WORKFLOWS)
    workflow = Workflow.objects.filter(slug=slug).first()
    if workflow is None:
        return render(request, "designer/missing.html", {"slug": slug}, status=404)
    return workflow


@require_http_methods(["GET", "POST"])
def workflow_settings(request: HttpRequest, slug: str) -> HttpResponse:
    """Title, description, whether it is a template, run settings, and its parameters."""
    workflow = _editable_workflow(request, slug)
    if isinstance(workflow, HttpResponse):
        return workflow
    if request.method != "POST":
        return _settings_page(request, workflow)
    rows: list[forms.ParameterRow] = []
    try:
        rows = forms.posted_rows(request.POST)
        timeout = forms.timeout_from_form(forms.posted_duration(request.POST, "timeout"))
        drafts.update_workflow(
            workflow,
            _user(request),
            title=request.POST.get("title", ""),
            description=request.POST.get("description", "").strip(),
            is_template=bool(request.POST.get("is_template")),
            compensate_on_cancel=bool(request.POST.get("compensate_on_cancel")),
            timeout_seconds=timeout,
            parameters=forms.parameters_from_rows(rows, workflow.parameters),
        )
    except drafts.DesignerError as error:
        marked = forms.rows_with_error(rows, error) if rows else None
        return _settings_page(request, workflow, status=422, error=error, rows=marked)
    messages.success(request, "Settings saved.")
    return HttpResponseRedirect(reverse("designer-settings", args=[workflow.slug]))


@require_POST
def delete_workflow(request: HttpRequest, slug: str) -> HttpResponse:
    """Delete after the user typed the slug: a click alone is too easy to make by mistake."""
    workflow = _editable_workflow(request, slug)
    if isinstance(workflow, HttpResponse):
        return workflow
    if request.POST.get("confirm", "").strip() != workflow.slug:
        message = f"confirm: type {workflow.slug} to delete this workflow"
        return _settings_page(request, workflow, status=422, delete_error=message)
    drafts.delete_workflow(workflow)
    messages.success(
        request,
        f"Deleted “{workflow.title}” ({slug}). Runs already started finish on their version.",
    )
    return HttpResponseRedirect(reverse("designer"))


@require_GET
def canvas(request: HttpRequest, slug: str) -> HttpResponse:
    """The canvas for a graph workflow; a code workflow's page is read-only."""
    workflow = Workflow.objects.filter(slug=slug).first()
    if workflow is None:
        definition = get_workflow(slug)
        if definition is None:
            return render(request, "designer/missing.html", {"slug": slug}, status=404)
        return _code_page(request, definition)
    latest = latest_version(workflow.slug)
    manual = next(
        (node for node in workflow.draft.get("nodes", []) if node.get("type") == "trigger.manual"),
        None,
    )
    boot = {
        "slug": workflow.slug,
        "title": workflow.title,
        "graph": workflow.draft,
        "revision": workflow.revision,
        "problems": [problem.as_dict() for problem in drafts.problems_of(workflow.draft)],
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
        problems = validate_node_config(node_type.type, node_id, config, drafts.world())
    context = {
        "slug": slug,
        "node_id": node_id,
        "node_type": node_type,
        "label": label,
        "config_json": json.dumps(config),
        "fields": panel.fields_for(node_type, schema, config, problems, raw),
        "other_problems": panel.other_problems(problems),
        "editable": editable,
        # Text that did not parse is shown again with its error and nothing reaches the canvas,
        # so the panel must not claim it applied anything.
        "saved": not opening and not form_problems,
        "not_applied": bool(form_problems),
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


PRIORITY_FIELD = "run.priority"
"""The start form's priority field, named apart from the input's own fields."""
PRIORITY_CHOICES = [("-50", "Low"), ("0", "Normal"), ("50", "High"), ("100", "Urgent")]


def _code_page(
    request: HttpRequest,
    definition: WorkflowDefinition,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> HttpResponse:
    values, errors = values or {}, errors or {}
    fields = input_fields(definition.input_schema)
    rows = [
        {"field": field, "value": values.get(field.html_name, ""), "error": errors.get(field.name)}
        for field in fields or []
    ]
    context = {
        "definition": definition,
        "parameters": code_pages.parameters(definition),
        "steps": code_pages.recent_steps(definition.slug),
        "can_start": can(request.user, Capability.START_RUNS),
        "rows": rows,
        "json_input": None if fields is not None else values.get("input", "{}"),
        "input_error": errors.get("input"),
        "priorities": PRIORITY_CHOICES,
        "priority": values.get(PRIORITY_FIELD, "0"),
        "priority_error": errors.get(PRIORITY_FIELD),
    }
    return render(request, "designer/code_workflow.html", context, status=status)


@require_POST
def start_code_run(request: HttpRequest, slug: str) -> HttpResponse:
    """Start a code workflow from its page's input form; problems are shown on their fields."""
    require(request.user, Capability.START_RUNS)
    definition = get_workflow(slug)
    if definition is None:
        return render(request, "designer/missing.html", {"slug": slug}, status=404)
    submitted = {key: str(value) for key, value in request.POST.items()}
    value, errors = parse_input(definition.input_schema, submitted)
    priority = 0
    try:
        priority = check_priority(int(submitted.get(PRIORITY_FIELD) or 0))
    except ValueError:
        errors[PRIORITY_FIELD] = f"must be a whole number from -{MAX_PRIORITY} to {MAX_PRIORITY}"
    if errors:
        return _code_page(request, definition, values=submitted, errors=errors, status=422)
    run = start_run(slug, value, trigger="manual", created_by=_user(request), priority=priority)
    messages.success(request, f"Started run {run.pk} of {definition.title}.")
    return HttpResponseRedirect(reverse("run-detail", args=[run.pk]))
