"""The designer's pages for state machines: a machine's draft, its problems and versions, and
the canvas that edits it (through the API, designer.api_machines).
"""

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from accounts.roles import Capability, can
from designer import machine_drafts
from designer.api import node_type_out
from designer.machine_formats import FORMATS
from designer.models import Machine
from engine.graph.nodes import all_node_types
from engine.machines.publishing import live_versions
from engine.machines.validate import ACTION_GROUPS


def machine_listing() -> list[dict[str, Any]]:
    """Each machine with its newest published number, for the designer's index."""
    published = machine_drafts.newest_published()
    return [
        {"machine": machine, "published": published.get(machine.slug)}
        for machine in Machine.objects.all()
    ]


def _trigger(transition: dict[str, Any]) -> str:
    if transition.get("event"):
        return str(transition["event"])
    return f"after {transition['after']}" if transition.get("after") else "always"


def _missing(request: HttpRequest, slug: str) -> HttpResponse:
    return render(request, "designer/missing.html", {"slug": slug, "kind": "machine"}, status=404)


@require_GET
def machine_page(request: HttpRequest, slug: str) -> HttpResponse:
    machine = Machine.objects.filter(slug=slug).first()
    if machine is None:
        return _missing(request, slug)
    draft = machine.draft
    context = {
        "machine": machine,
        "initial": draft.get("initial"),
        "states": [row for row in draft.get("states") or [] if isinstance(row, dict)],
        "transitions": [
            {**row, "trigger": _trigger(row)}
            for row in draft.get("transitions") or []
            if isinstance(row, dict)
        ],
        "problems": machine_drafts.problems_of(draft),
        "versions": live_versions(machine.slug).select_related("author").order_by("-number"),
        "formats": FORMATS,
    }
    return render(request, "designer/machine.html", context)


@require_GET
def machine_canvas(request: HttpRequest, slug: str) -> HttpResponse:
    """The canvas island for a machine, booted with its draft as the workflow canvas is."""
    machine = Machine.objects.filter(slug=slug).first()
    if machine is None:
        return _missing(request, slug)
    published = machine_drafts.newest_published(machine.slug)
    boot = {
        "kind": "machine",
        "slug": machine.slug,
        "title": machine.title,
        "definition": machine.draft,
        "revision": machine.revision,
        "problems": [problem.as_dict() for problem in machine_drafts.problems_of(machine.draft)],
        # Only what the engine lets a state or transition run (engine.machines.validate).
        "actionTypes": [
            node_type_out(node_type)
            for node_type in all_node_types()
            if node_type.group in ACTION_GROUPS
        ],
        "publishedVersion": published.get(machine.slug),
        "csrf": get_token(request),
        "can": {
            "edit": can(request.user, Capability.EDIT_WORKFLOWS),
            "publish": can(request.user, Capability.PUBLISH_WORKFLOWS),
        },
        "urls": {
            "page": reverse("designer-machine", args=[machine.slug]),
            "export": f"/api/machines/{machine.slug}/export?format=json",
        },
    }
    return render(request, "designer/machine_canvas.html", {"machine": machine, "boot": boot})
