"""The designer's pages for state machines: a machine's draft, its problems and versions.

Read-only for now: the canvas edits machines through the API (designer.api_machines).
"""

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from designer import machine_drafts
from designer.machine_formats import FORMATS
from designer.models import Machine
from engine.machines.publishing import live_versions


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


@require_GET
def machine_page(request: HttpRequest, slug: str) -> HttpResponse:
    machine = Machine.objects.filter(slug=slug).first()
    if machine is None:
        return render(
            request, "designer/missing.html", {"slug": slug, "kind": "machine"}, status=404
        )
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
