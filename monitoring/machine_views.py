"""The machine pages: a list of machines, a machine's overview, and an instance's cockpit where
operators send the events it allows."""

from django.contrib import messages
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from accounts.roles import Capability, capabilities_of, require
from engine.machines.definitions import UnknownMachine
from engine.machines.instances import (
    DuplicateInstance,
    MachineInputError,
    create_instance,
    send_event,
)
from engine.models import MachineInstance
from monitoring.htmx import HtmxHttpRequest
from monitoring.machine_pages import cockpit, machine_slugs, overview, parse_value

MAX_DATA_FIELDS = 20


def _require_view(request: HtmxHttpRequest) -> set[Capability]:
    granted = capabilities_of(request.user)
    if Capability.VIEW not in granted:
        raise PermissionDenied("your roles do not allow: view")
    return set(granted)


@require_GET
def machines(request: HtmxHttpRequest) -> HttpResponse:
    _require_view(request)
    return render(request, "monitoring/machines.html", {"machines": machine_slugs()})


@never_cache
@require_GET
def machine_overview(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    """Instances by state (a bar each), the last day's most frequent transitions, the list."""
    _require_view(request)
    found = overview(slug, request.GET.get("state") or None)
    if found is None:
        raise Http404(f"no machine called {slug!r}")
    template = "monitoring/machine.html#live" if request.htmx else "monitoring/machine.html"
    may_create = Capability.START_RUNS in capabilities_of(request.user)
    response = render(request, template, {"machine": found, "may_create": may_create})
    patch_vary_headers(response, ["HX-Request"])
    return response


def _typed_fields(request: HtmxHttpRequest, prefix: str) -> dict[str, object]:
    """Name/value rows of a form as a JSON object; empty names are dropped."""
    names = request.POST.getlist(f"{prefix}_name")[:MAX_DATA_FIELDS]
    values = request.POST.getlist(f"{prefix}_value")[:MAX_DATA_FIELDS]
    fields = {name.strip(): parse_value(value) for name, value in zip(names, values, strict=False)}
    fields.pop("", None)
    return fields


@require_POST
def create_machine_instance(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    """Create an instance from the overview's form, as POST /api/machines/{slug}/instances."""
    require(request.user, Capability.START_RUNS)
    actor = request.user if isinstance(request.user, User) else None
    key = request.POST.get("key", "").strip()
    try:
        instance = create_instance(slug, key, _typed_fields(request, "context"), actor=actor)
    except UnknownMachine:
        raise Http404(f"no machine called {slug!r}") from None
    except DuplicateInstance as duplicate:
        messages.error(request, f"key: {duplicate}")
        return HttpResponseRedirect(reverse("machine-overview", args=[slug]))
    except MachineInputError as error:
        messages.error(request, f"{error.field}: {error.message}")
        return HttpResponseRedirect(reverse("machine-overview", args=[slug]))
    messages.success(request, f"Created {instance.key} in {instance.machine}.")
    return HttpResponseRedirect(reverse("machine-instance", args=[slug, instance.pk]))


def _instance(slug: str, instance_id: int) -> MachineInstance:
    instance = MachineInstance.objects.filter(pk=instance_id, machine=slug).first()
    if instance is None:
        raise Http404(f"{slug} has no instance {instance_id}")
    return instance


@never_cache
@require_GET
def instance_page(request: HtmxHttpRequest, slug: str, instance_id: int) -> HttpResponse:
    """The cockpit: state, time in state, timers, the allowed events, the history — live."""
    granted = _require_view(request)
    instance = _instance(slug, instance_id)
    context = {
        "instance": instance,
        "cockpit": cockpit(instance),
        "may_send": Capability.START_RUNS in granted,
    }
    template = "monitoring/instance.html#live" if request.htmx else "monitoring/instance.html"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@require_POST
def send_instance_event(request: HtmxHttpRequest, slug: str, instance_id: int) -> HttpResponse:
    """Send one event with the data typed in the form, as POST /api/instances/{id}/events."""
    require(request.user, Capability.START_RUNS)
    instance = _instance(slug, instance_id)
    page = reverse("machine-instance", args=[slug, instance.pk])
    data = _typed_fields(request, "data")
    event = request.POST.get("event", "")
    actor = request.user if isinstance(request.user, User) else None
    try:
        sent, created = send_event(instance.pk, event, data, actor=actor, source="cockpit")
    except MachineInputError as error:
        messages.error(request, f"{error.field}: {error.message}")
        return HttpResponseRedirect(page)
    if created:
        messages.success(request, f"Sent {sent.name}: it is applied in turn, below.")
    return HttpResponseRedirect(page)
