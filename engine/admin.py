"""The engine's tables in the Django admin: runs with their journal, events, timers."""

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from engine.actions import RunStateError, cancel_run, retry_run
from engine.models import (
    DebounceSlot,
    Event,
    GraphVersion,
    HumanTask,
    ProcessHeartbeat,
    Record,
    Run,
    RunMetric,
    StepRecord,
    TaskDecision,
    Timer,
    Wait,
)


class ReadOnlyInline(admin.TabularInline):  # type: ignore[type-arg]
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class StepInline(ReadOnlyInline):
    model = StepRecord
    fk_name = "run"
    fields = [
        "seq",
        "branch",
        "attempt",
        "kind",
        "name",
        "status",
        "started_at",
        "finished_at",
        "output",
        "error",
        "superseded",
    ]
    ordering = ["seq", "branch", "attempt"]


class MetricInline(ReadOnlyInline):
    model = RunMetric
    fields = ["name", "value", "recorded_at"]


@admin.register(Run)
class RunAdmin(admin.ModelAdmin[Run]):
    list_display = [
        "id",
        "workflow",
        "status",
        "trigger",
        "created_at",
        "started_at",
        "finished_at",
    ]
    list_filter = ["status", "trigger", "kind", "workflow", "created_at"]
    search_fields = ["=id", "workflow", "idempotency_key", "trigger_ref"]
    date_hierarchy = "created_at"
    readonly_fields = [field.name for field in Run._meta.fields]
    inlines = [StepInline, MetricInline]
    actions = ["cancel_runs", "retry_runs"]
    list_select_related = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Cancel the selected runs")
    def cancel_runs(self, request: HttpRequest, queryset: QuerySet[Run]) -> None:
        self._apply(request, queryset, cancel_run, "cancelled")

    @admin.action(description="Retry the selected failed runs from their failed step")
    def retry_runs(self, request: HttpRequest, queryset: QuerySet[Run]) -> None:
        self._apply(request, queryset, retry_run, "retried")

    def _apply(
        self, request: HttpRequest, queryset: QuerySet[Run], action: object, verb: str
    ) -> None:
        done, refused = 0, []
        for run in queryset:
            try:
                action(run.pk)  # type: ignore[operator]
                done += 1
            except RunStateError as error:
                refused.append(str(error))
        if done:
            self.message_user(request, f"{done} run(s) {verb}.")
        for reason in refused:
            self.message_user(request, reason, level=messages.WARNING)


@admin.register(Event)
class EventAdmin(admin.ModelAdmin[Event]):
    list_display = ["type", "event_id", "source", "received_at"]
    list_filter = ["type", "source"]
    search_fields = ["event_id", "type"]
    date_hierarchy = "received_at"
    readonly_fields = ["event_id", "type", "payload", "source", "received_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(Wait)
class WaitAdmin(admin.ModelAdmin[Wait]):
    list_display = ["run", "seq", "event_type", "status", "deadline", "created_at"]
    list_filter = ["status", "event_type"]
    readonly_fields = [field.name for field in Wait._meta.fields]
    raw_id_fields = ["run", "event"]


@admin.register(Timer)
class TimerAdmin(admin.ModelAdmin[Timer]):
    list_display = ["run", "kind", "due_at", "seq"]
    list_filter = ["kind"]
    raw_id_fields = ["run"]


@admin.register(DebounceSlot)
class DebounceSlotAdmin(admin.ModelAdmin[DebounceSlot]):
    list_display = ["workflow", "key", "calls", "first_call_at", "due_at"]
    search_fields = ["workflow", "key"]


@admin.register(ProcessHeartbeat)
class ProcessHeartbeatAdmin(admin.ModelAdmin[ProcessHeartbeat]):
    list_display = ["kind", "name", "started_at", "last_seen"]
    list_filter = ["kind"]
    readonly_fields = ["kind", "name", "started_at", "last_seen", "details"]


@admin.register(GraphVersion)
class GraphVersionAdmin(admin.ModelAdmin[GraphVersion]):
    """Published versions are immutable: the admin shows them, never edits them."""

    list_display = ["workflow", "number", "title", "author", "published_at", "retired"]
    list_filter = ["retired", "published_at"]
    search_fields = ["workflow", "title", "note"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class DecisionInline(ReadOnlyInline):
    model = TaskDecision
    fields = ["user", "decision", "comment", "decided_at"]


@admin.register(HumanTask)
class HumanTaskAdmin(admin.ModelAdmin[HumanTask]):
    list_display = ["id", "kind", "title", "status", "run", "created_at", "due_at", "decided_at"]
    list_filter = ["kind", "status", "created_at"]
    search_fields = ["title", "run__workflow"]
    readonly_fields = ["run", "step_name", "kind", "created_at", "decided_at", "status"]
    raw_id_fields = ["run"]
    inlines = [DecisionInline]


@admin.register(Record)
class RecordAdmin(admin.ModelAdmin[Record]):
    list_display = ["collection", "key", "created_at", "updated_at"]
    list_filter = ["collection"]
    search_fields = ["collection", "key"]
