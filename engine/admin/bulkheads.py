"""Bulkheads and workflow caps in the admin: limits operators set, and their live usage."""

from typing import Any

from django.contrib import admin
from django.db.models import Count, Min, Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone

from engine.admin.readonly import ReadOnlyAdmin
from engine.models import Bulkhead, BulkheadSlot, LimitSource, SlotState, WorkflowCap
from engine.resilience.cap_usage import with_usage
from engine.resilience.priorities import delete_caps, save_cap


@admin.register(Bulkhead)
class BulkheadAdmin(admin.ModelAdmin[Bulkhead]):
    """An operator's limit wins over what code and nodes declare (its source becomes admin)."""

    list_display = ["name", "max_concurrent", "in_flight", "waiting", "oldest_waiter", "source"]
    search_fields = ["name"]
    readonly_fields = ["source", "updated_at", "in_flight", "waiting", "oldest_waiter"]
    fields = ["name", "max_concurrent", "description", *readonly_fields]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Bulkhead]:
        now = timezone.now()
        return (
            super()
            .get_queryset(request)
            .annotate(
                live=Count(
                    "slots",
                    filter=Q(slots__state=SlotState.HOLDING, slots__lease_until__gte=now),
                ),
                queued=Count("slots", filter=Q(slots__state=SlotState.WAITING)),
                oldest=Min("slots__queued_at", filter=Q(slots__state=SlotState.WAITING)),
            )
        )

    @admin.display(description="in flight", ordering="live")
    def in_flight(self, bulkhead: Any) -> int:
        return int(getattr(bulkhead, "live", 0))

    @admin.display(description="waiting", ordering="queued")
    def waiting(self, bulkhead: Any) -> int:
        return int(getattr(bulkhead, "queued", 0))

    @admin.display(description="oldest waiter since")
    def oldest_waiter(self, bulkhead: Any) -> Any:
        return getattr(bulkhead, "oldest", None) or "—"

    def save_model(self, request: HttpRequest, obj: Bulkhead, form: Any, change: bool) -> None:
        obj.source = LimitSource.ADMIN
        super().save_model(request, obj, form, change)


@admin.register(WorkflowCap)
class WorkflowCapAdmin(admin.ModelAdmin[WorkflowCap]):
    """At most this many runs of a workflow move at once; the others wait, by priority."""

    list_display = ["workflow", "max_active", "key_field", "moving", "held", "source", "updated_at"]
    search_fields = ["workflow"]
    readonly_fields = ["source", "updated_at"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[WorkflowCap]:
        return with_usage(super().get_queryset(request))

    @admin.display(description="runs moving", ordering="runs_moving")
    def moving(self, cap: Any) -> int:
        return int(getattr(cap, "runs_moving", 0))

    @admin.display(description="runs held", ordering="runs_held")
    def held(self, cap: Any) -> int:
        return int(getattr(cap, "runs_held", 0))

    def save_model(self, request: HttpRequest, obj: WorkflowCap, form: Any, change: bool) -> None:
        obj.source = LimitSource.ADMIN
        self._admitted(request, save_cap(obj))

    def delete_model(self, request: HttpRequest, obj: WorkflowCap) -> None:
        self._admitted(request, delete_caps([obj.workflow]))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[WorkflowCap]) -> None:
        self._admitted(request, delete_caps(queryset.values_list("workflow", flat=True)))

    def _admitted(self, request: HttpRequest, count: int) -> None:
        if count:
            runs = "run was" if count == 1 else "runs were"
            self.message_user(request, f"{count} held {runs} let in and sent to a worker.")


@admin.register(BulkheadSlot)
class BulkheadSlotAdmin(ReadOnlyAdmin[BulkheadSlot]):
    """Who holds or waits for a bulkhead's slots: read only, since the engine alone grants and
    releases them (a crashed worker's slot lapses with its lease)."""

    list_display = (
        "bulkhead",
        "run",
        "seq",
        "branch",
        "state",
        "priority",
        "queued_at",
        "lease_until",
    )
    list_filter = ("state", "bulkhead")
    list_select_related = ("bulkhead",)
