"""Events in the admin with the runs they started, the waits and subscriptions they meet, and
debounced starts."""

from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html_join
from django.utils.safestring import SafeString

from engine.admin.json_input import JSON_INPUT_FIELDS
from engine.models import (
    DebounceSlot,
    Event,
    EventChannel,
    EventTrigger,
    Run,
    Wait,
)


@admin.register(Event)
class EventAdmin(admin.ModelAdmin[Event]):
    list_display = ["type", "event_id", "source", "depth", "received_at"]
    list_filter = ["type", "source"]
    search_fields = ["event_id", "type"]
    date_hierarchy = "received_at"
    readonly_fields = [
        "event_id",
        "type",
        "payload",
        "source",
        "depth",
        "received_at",
        "started_runs",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description="Runs it started")
    def started_runs(self, event: Event) -> SafeString | str:
        runs = Run.objects.filter(trigger="event", trigger_ref=event.event_id).order_by("id")
        links = format_html_join(
            ", ",
            '<a href="{}">{} #{}</a> ({})',
            (
                (
                    reverse("admin:engine_run_change", args=[run.pk]),
                    run.workflow,
                    run.pk,
                    run.status,
                )
                for run in runs
            ),
        )
        return links or "none"


@admin.register(Wait)
class WaitAdmin(admin.ModelAdmin[Wait]):
    list_display = ["run", "seq", "event_type", "status", "deadline", "created_at"]
    list_filter = ["status", "event_type"]
    readonly_fields = [field.name for field in Wait._meta.fields]
    raw_id_fields = ["run", "event"]


@admin.register(DebounceSlot)
class DebounceSlotAdmin(admin.ModelAdmin[DebounceSlot]):
    formfield_overrides = JSON_INPUT_FIELDS
    list_display = ["workflow", "key", "calls", "first_call_at", "due_at"]
    search_fields = ["workflow", "key"]


@admin.register(EventChannel)
class EventChannelAdmin(admin.ModelAdmin[EventChannel]):
    list_display = ["type"]
    search_fields = ["type"]
    readonly_fields = ["type", "match_shapes"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(EventTrigger)
class EventTriggerAdmin(admin.ModelAdmin[EventTrigger]):
    """Graph subscriptions follow the published versions; they are read here, not edited."""

    list_display = ["event_type", "workflow", "node", "filter", "debounce_seconds"]
    list_filter = ["event_type"]
    search_fields = ["event_type", "workflow"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
