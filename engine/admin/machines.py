"""State machines in the admin: published versions, instances by state and status with their
events, and the events across instances. All written by the engine: browsed, never edited
(create instances and send events through the API, whose actions keep them serialised)."""

from django.contrib import admin

from engine.admin.readonly import ReadOnlyAdmin, ReadOnlyInline
from engine.models import MachineEvent, MachineInstance, MachineTimer, MachineVersion


@admin.register(MachineVersion)
class MachineVersionAdmin(ReadOnlyAdmin[MachineVersion]):
    list_display = ["machine", "number", "title", "retired", "author", "published_at"]
    list_filter = ["retired", "machine"]
    search_fields = ["machine", "title", "note"]
    date_hierarchy = "published_at"


class MachineEventInline(ReadOnlyInline):
    model = MachineEvent
    fields = readonly_fields = (
        "name",
        "status",
        "from_state",
        "to_state",
        "reason",
        "actor",
        "received_at",
    )
    ordering = ["-id"]
    show_change_link = True


class MachineTimerInline(ReadOnlyInline):
    model = MachineTimer
    fields = readonly_fields = ("transition", "entered_at", "due_at")


@admin.register(MachineInstance)
class MachineInstanceAdmin(ReadOnlyAdmin[MachineInstance]):
    list_display = ["key", "machine", "version", "state", "status", "entered_at", "updated_at"]
    list_filter = ["machine", "status", "state"]
    search_fields = ["key", "machine"]
    date_hierarchy = "entered_at"
    inlines = [MachineTimerInline, MachineEventInline]


@admin.register(MachineEvent)
class MachineEventAdmin(ReadOnlyAdmin[MachineEvent]):
    list_display = ["name", "instance", "status", "from_state", "to_state", "source", "received_at"]
    list_filter = ["status", "source", "name"]
    search_fields = ["event_id", "name", "instance__key"]
    date_hierarchy = "received_at"
    list_select_related = ["instance"]


@admin.register(MachineTimer)
class MachineTimerAdmin(ReadOnlyAdmin[MachineTimer]):
    list_display = ["transition", "instance", "entered_at", "due_at"]
    search_fields = ["transition", "instance__key"]
    list_select_related = ["instance"]
