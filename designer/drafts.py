"""Designer actions on drafts: create, edit, publish, delete, copy from a template, import, export.

Each action validates first and changes nothing on a bad input; each owns its transaction.
"""

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import cache
from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone
from jsonschema import Draft202012Validator

from accounts.roles import Capability, capabilities_of
from designer.models import Workflow
from engine.core.definitions import SLUG_PATTERN, get_workflow
from engine.core.durations import check_run_timeout
from engine.core.machines import Problem as MachineProblem
from engine.graph.diff import diff_graphs
from engine.graph.format import GRAPH_SCHEMA
from engine.graph.nodes import CheckContext, Problem
from engine.graph.publishing import (
    latest_version,
    live_versions,
    publish_graph,
    published_context,
    retire_graph,
)
from engine.graph.validate import validate_graph
from engine.graph.validate.configs import json_type
from engine.models import GraphVersion

EMPTY_GRAPH: dict[str, Any] = {"nodes": [], "edges": []}
EXPORT_FORMAT = "stepwise-workflow"
_SHAPE = Draft202012Validator(GRAPH_SCHEMA)
_PARAMETER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
PARAMETER_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


class DesignerError(ValueError):
    """A refused edit: `status` is what the API answers, `field` what was wrong."""

    def __init__(
        self,
        message: str,
        *,
        status: int = 422,
        field: str | None = None,
        problems: Sequence[Problem | MachineProblem] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.message = message
        self.status = status
        self.field = field
        self.problems = list(problems or [])
        self.extra = extra or {}


@dataclass(frozen=True)
class Draft:
    graph: dict[str, Any]
    revision: int
    problems: list[Problem]


def world(slug: str | None = None) -> CheckContext:
    """What validation may look up outside the graph, each answer remembered per validation.

    The engine's view (for the workflow `slug`: its secret grants), except that a workflow
    exists as soon as it has a draft: a graph may name one that is published later.
    """

    @cache
    def workflow_exists(slug: str) -> bool:
        return get_workflow(slug) is not None or Workflow.objects.filter(slug=slug).exists()

    return replace(published_context(slug), workflow_exists=workflow_exists)


def problems_of(
    graph: Any, context: CheckContext | None = None, *, slug: str | None = None
) -> list[Problem]:
    return validate_graph(graph, context or world(slug))


def check_shape(graph: Any, field: str = "graph") -> None:
    """Refuse a document that is not a graph at all (a draft may still have other problems)."""
    if not _SHAPE.is_valid(graph):
        problems = validate_graph(graph, CheckContext())
        first = problems[0] if problems else Problem(None, None, "not a graph document")
        where = f"{field}.{first.field}" if first.field else field
        raise DesignerError(first.message, field=where, problems=problems)


def check_slug(slug: Any) -> str:
    if not isinstance(slug, str) or not SLUG_PATTERN.match(slug):
        raise DesignerError(
            "use lowercase letters, digits and hyphens (1 to 100 characters)", field="slug"
        )
    if get_workflow(slug) is not None:
        raise DesignerError(f"{slug!r} is a code workflow", status=409, field="slug")
    if Workflow.objects.filter(slug=slug).exists():
        raise DesignerError(f"a workflow called {slug!r} exists", status=409, field="slug")
    return slug


def check_title(title: Any) -> str:
    if not isinstance(title, str) or not title.strip() or len(title) > 200:
        raise DesignerError("1 to 200 characters", field="title")
    return title.strip()


_PARAMETER_KEYS = ("name", "title", "default")


def check_parameters(parameters: Any, field: str = "parameters") -> list[dict[str, Any]]:
    """The parameters, each {name, title, default}; an unknown key or a title that is not text
    is refused naming it, not dropped or converted."""
    if not isinstance(parameters, list):
        raise DesignerError("a list of {name, title, default}", field=field)
    seen: set[str] = set()
    cleaned = []
    for index, parameter in enumerate(parameters):
        at = f"{field}[{index}]"
        name = parameter.get("name") if isinstance(parameter, dict) else None
        if not isinstance(name, str) or not PARAMETER_NAME.match(name):
            raise DesignerError("a name of letters, digits and _", field=f"{at}.name")
        if name in seen:
            raise DesignerError(f"{name!r} repeats", field=f"{at}.name")
        seen.add(name)
        _refuse_unknown_keys(parameter, _PARAMETER_KEYS, at)
        title = parameter.get("title")
        if title is not None and not isinstance(title, str):
            raise DesignerError(f"must be text, not {json_type(title)}", field=f"{at}.title")
        cleaned.append({"name": name, "title": title or name, "default": parameter.get("default")})
    return cleaned


def _refuse_unknown_keys(value: dict[str, Any], known: Sequence[str], field: str) -> None:
    unknown = [key for key in value if key not in known]
    if unknown:
        raise DesignerError(
            f"unknown key {unknown[0]!r} (known keys: {', '.join(known)})",
            field=f"{field}.{unknown[0]}",
        )


def create_workflow(
    *,
    slug: Any,
    title: Any,
    user: User | None,
    description: str = "",
    graph: Any = None,
    is_template: bool = False,
    parameters: Any = None,
    compensate_on_cancel: bool = True,
    timeout_seconds: Any = None,
) -> tuple[Workflow, list[Problem]]:
    check_slug(slug)
    title = check_title(title)
    timeout_seconds = check_timeout(timeout_seconds)
    graph = EMPTY_GRAPH if graph is None else graph
    check_shape(graph)
    cleaned = check_parameters(parameters or [])
    now = timezone.now()
    try:
        with transaction.atomic():
            workflow = Workflow.objects.create(
                slug=slug,
                title=title,
                description=description,
                draft=graph,
                is_template=is_template,
                parameters=cleaned,
                compensate_on_cancel=compensate_on_cancel,
                timeout_seconds=timeout_seconds,
                created_by=user,
                created_at=now,
                updated_by=user,
                updated_at=now,
            )
    except IntegrityError:
        raise DesignerError(
            f"a workflow called {slug!r} exists", status=409, field="slug"
        ) from None
    return workflow, problems_of(graph, slug=workflow.slug)


def check_timeout(value: Any, field: str = "timeout_seconds") -> float | None:
    """The run timeout in seconds (None: none); refused, naming the field, unless it is a number
    above 0 and at most 365 days."""
    try:
        return check_run_timeout(value)
    except ValueError as wrong:
        raise DesignerError(str(wrong), field=field) from None


# The settings update_workflow may change, each with what checks and normalises its value.
_SETTINGS: dict[str, Callable[[Any], Any]] = {
    "title": check_title,
    "description": lambda value: str(value or ""),
    "is_template": bool,
    "parameters": check_parameters,
    "compensate_on_cancel": bool,
    "timeout_seconds": check_timeout,
}


def update_workflow(workflow: Workflow, user: User | None, **changes: Any) -> Workflow:
    """Change the settings, never the draft: the canvas may be saving it at the same moment."""
    # Everything is checked before anything changes: a refused update leaves the object as it was.
    cleaned = {name: clean(changes[name]) for name, clean in _SETTINGS.items() if name in changes}
    for name, value in cleaned.items():
        setattr(workflow, name, value)
    workflow.updated_by, workflow.updated_at = user, timezone.now()
    workflow.save(update_fields=[*cleaned, "updated_by", "updated_at"])
    return workflow


def save_draft(workflow: Workflow, graph: Any, revision: Any, user: User | None) -> Draft:
    """Save the draft if `revision` is the current one; a stale save is refused (409)."""
    if isinstance(revision, bool) or not isinstance(revision, int):
        raise DesignerError("the revision number the edit started from", field="revision")
    check_shape(graph)
    with transaction.atomic():
        updated = Workflow.objects.filter(pk=workflow.pk, revision=revision).update(
            draft=graph, revision=revision + 1, updated_by=user, updated_at=timezone.now()
        )
        if not updated:
            current = Workflow.objects.filter(pk=workflow.pk).values_list("revision", flat=True)
            raise DesignerError(
                "someone saved this draft meanwhile; reload it or save again over theirs",
                status=409,
                field="revision",
                extra={"current_revision": current.first()},
            )
    workflow.refresh_from_db()
    return Draft(workflow.draft, workflow.revision, problems_of(graph, slug=workflow.slug))


def publish(workflow: Workflow, user: User | None, note: str = "") -> GraphVersion:
    """Hand the draft to the engine as the next numbered version; an invalid draft is refused,
    and so is a draft equal to the newest version (nothing would change)."""
    newest = latest_version(workflow.slug)
    if (
        newest is not None
        and newest.graph == workflow.draft
        and newest.title == workflow.title
        and newest.compensate_on_cancel == workflow.compensate_on_cancel
        and newest.timeout_seconds == workflow.timeout_seconds
    ):
        message = f"nothing to publish: the draft equals version {newest.number}"
        raise DesignerError(message, status=409, field="draft", extra={"message": message})
    context = world(workflow.slug)
    problems = problems_of(workflow.draft, context)
    if problems:
        raise DesignerError(
            f"the draft has {len(problems)} problem(s); fix them before publishing",
            field="draft",
            problems=problems,
        )
    # The same context: the engine checks again with the answers this check was given.
    return publish_graph(
        workflow.slug,
        workflow.title,
        workflow.draft,
        note=note,
        author=user,
        compensate_on_cancel=workflow.compensate_on_cancel,
        timeout_seconds=workflow.timeout_seconds,
        context=context,
        # A designer who may not start runs cannot start them by publishing a schedule; the
        # system (no user: load_demo, imports from the command line) may.
        activate_triggers=user is None or Capability.START_RUNS in capabilities_of(user),
    )


def delete_workflow(workflow: Workflow) -> None:
    """Remove the workflow; its versions stay for the runs pinned to them but start nothing."""
    with transaction.atomic():
        retire_graph(workflow.slug)
        workflow.delete()


def graph_at(workflow: Workflow, which: str, field: str) -> dict[str, Any]:
    """A version's graph by number, or the draft."""
    if which == "draft":
        return dict(workflow.draft)
    if not which.isdigit():
        raise DesignerError("a version number or 'draft'", field=field)
    version = live_versions(workflow.slug).filter(number=int(which)).first()
    if version is None:
        raise DesignerError(f"no version {which}", status=404, field=field)
    return dict(version.graph)


def diff(workflow: Workflow, old: str, new: str) -> dict[str, Any]:
    return diff_graphs(graph_at(workflow, old, "from"), graph_at(workflow, new, "to"))


def instantiate(
    template: Workflow, *, slug: Any, title: Any, values: Any, user: User | None
) -> tuple[Workflow, list[Problem]]:
    """A new workflow from a template, with `${name}` in its strings replaced by the values,
    and the template's run settings (its run timeout, whether a cancel undoes steps)."""
    if not template.is_template:
        raise DesignerError(f"{template.slug!r} is not a template", status=409, field="slug")
    if not isinstance(values, dict):
        raise DesignerError("an object of parameter values", field="parameters")
    declared = {parameter["name"]: parameter for parameter in template.parameters}
    for name in values:
        if name not in declared:
            raise DesignerError(
                f"the template has no parameter {name!r}", field=f"parameters.{name}"
            )
    chosen = {name: values.get(name, spec.get("default")) for name, spec in declared.items()}
    for name, value in chosen.items():
        if value is None:
            raise DesignerError("a value is required", field=f"parameters.{name}")
    graph = _substitute(template.draft, {name: str(value) for name, value in chosen.items()})
    return create_workflow(
        slug=slug,
        title=title,
        user=user,
        description=_substitute(template.description, chosen),
        graph=graph,
        compensate_on_cancel=template.compensate_on_cancel,
        timeout_seconds=template.timeout_seconds,
    )


def _substitute(value: Any, values: dict[str, Any]) -> Any:
    if isinstance(value, str):
        return _PARAMETER.sub(lambda found: str(values.get(found.group(1), found.group(0))), value)
    if isinstance(value, list):
        return [_substitute(item, values) for item in value]
    if isinstance(value, dict):
        return {key: _substitute(item, values) for key, item in value.items()}
    return value


# Every key export_document writes, and no other: an unknown key is refused on import.
_EXPORT_KEYS = (
    "format",
    "format_version",
    "slug",
    "title",
    "description",
    "is_template",
    "parameters",
    "compensate_on_cancel",
    "timeout_seconds",
    "graph",
)


def export_document(workflow: Workflow) -> dict[str, Any]:
    return {
        "format": EXPORT_FORMAT,
        "format_version": 1,
        "slug": workflow.slug,
        "title": workflow.title,
        "description": workflow.description,
        "is_template": workflow.is_template,
        "parameters": workflow.parameters,
        "compensate_on_cancel": workflow.compensate_on_cancel,
        "timeout_seconds": workflow.timeout_seconds,
        "graph": workflow.draft,
    }


def import_document(
    document: Any, user: User | None, slug: Any = None
) -> tuple[Workflow, list[Problem]]:
    """Create a workflow from an exported file; the graph is checked as on every save."""
    if not isinstance(document, dict) or document.get("format") != EXPORT_FORMAT:
        raise DesignerError(f"not a {EXPORT_FORMAT} export", field="document.format")
    if document.get("format_version") != 1:
        raise DesignerError("only format version 1 is known", field="document.format_version")
    _refuse_unknown_keys(document, _EXPORT_KEYS, "document")
    if "graph" not in document:
        raise DesignerError("the export has no graph", field="document.graph")
    check_shape(document["graph"], field="document.graph")
    # Wrong types are refused, not converted: bool("false") is True, str(["a"]) is "['a']".
    description = document.get("description", "")
    if not isinstance(description, str):
        raise DesignerError(
            f"must be text, not {json_type(description)}", field="document.description"
        )
    flags = {"is_template": False, "compensate_on_cancel": True}
    for key, default in flags.items():
        flags[key] = document.get(key, default)
        if not isinstance(flags[key], bool):
            raise DesignerError(
                f"must be true or false, not {json_type(flags[key])}", field=f"document.{key}"
            )
    try:
        title = check_title(document.get("title"))
    except DesignerError as wrong:
        raise DesignerError(wrong.message, field="document.title") from None
    return create_workflow(
        slug=slug or document.get("slug"),
        title=title,
        user=user,
        description=description,
        graph=document["graph"],
        is_template=flags["is_template"],
        parameters=check_parameters(document.get("parameters", []), "document.parameters"),
        compensate_on_cancel=flags["compensate_on_cancel"],
        timeout_seconds=check_timeout(
            document.get("timeout_seconds"), field="document.timeout_seconds"
        ),
    )
