"""Runs in the admin with their journal and metrics, and the journal and timers across runs."""

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.options import InlineModelAdmin
from django.contrib.admin.views.main import ChangeList
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from engine.admin.display import local_time
from engine.admin.masked import carry_listed_mask, carry_mask, run_field, step_field, step_name
from engine.admin.readonly import ReadOnlyAdmin, ReadOnlyInline
from engine.models import (
    Run,
    RunMetric,
    ScheduleFire,
    StepRecord,
    Timer,
)
from engine.runtime.masking import NO_MASK, PAGE_MASK, Mask, listed_masks, page_mask_for, sees_clear
from engine.runtime.runs import RunStateError, cancel_run, retry_run

# Columns that can hold sensitive input, shown through the reader's mask.
MASKED = ["input", "output", "error", "progress"]


class StepInline(ReadOnlyInline):
    model = StepRecord
    fk_name = "run"
    fields = [
        "seq",
        "branch",
        "attempt",
        "kind",
        "shown_name",
        "status",
        "started_at",
        "finished_at",
        "shown_output",
        "shown_error",
        "superseded",
    ]
    readonly_fields = ["shown_name", "shown_output", "shown_error"]
    ordering = ["seq", "branch", "attempt"]
    mask: Mask | None = None
    """The reader's mask for this run, set on the instance made for one request."""

    @admin.display(description="name")
    def shown_name(self, record: StepRecord) -> str:
        return step_name(record, self.mask)

    @admin.display(description="output")
    def shown_output(self, record: StepRecord) -> SafeString:
        return step_field(record, "output", self.mask)

    @admin.display(description="error")
    def shown_error(self, record: StepRecord) -> SafeString:
        return step_field(record, "error", self.mask)


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
    list_filter = ["status", "trigger", "kind", "is_test", "workflow", "created_at"]
    search_fields = ["=id", "workflow", "idempotency_key", "trigger_ref"]
    date_hierarchy = "created_at"
    readonly_fields = [
        *(
            f"shown_{field.name}" if field.name in MASKED else field.name
            for field in Run._meta.fields
        ),
        "started_by_schedule",
    ]
    exclude = MASKED  # a view-only reader would get them as form fields, in clear
    inlines = [StepInline, MetricInline]
    actions = ["cancel_runs", "retry_runs"]
    list_select_related = False

    def get_object(
        self, request: HttpRequest, object_id: str, from_field: Any = None
    ) -> Run | None:
        run = super().get_object(request, object_id, from_field)
        if run is not None:
            carry_mask(request, run, run)
        return run

    def get_inline_instances(
        self, request: HttpRequest, obj: Run | None = None
    ) -> list[InlineModelAdmin[Any, Any]]:
        # Django makes the inlines afresh for each request: each can hold this reader's mask.
        inlines = super().get_inline_instances(request, obj)
        for inline in inlines:
            if isinstance(inline, StepInline) and obj is not None:
                inline.mask = page_mask_for(request.user, obj)
        return inlines

    @admin.display(description="input")
    def shown_input(self, run: Run) -> SafeString:
        return run_field(run, "input")

    @admin.display(description="output")
    def shown_output(self, run: Run) -> SafeString:
        return run_field(run, "output")

    @admin.display(description="error")
    def shown_error(self, run: Run) -> SafeString:
        return run_field(run, "error")

    @admin.display(description="progress")
    def shown_progress(self, run: Run) -> SafeString:
        return run_field(run, "progress")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def view_on_site(self, run: Run) -> str:
        # "View on site" opens the run page; reversed by name, so the engine imports no monitoring.
        return reverse("run-detail", args=[run.pk])

    @admin.display(description="Started by schedule")
    def started_by_schedule(self, run: Run) -> str:
        fire = ScheduleFire.that_started(run)
        if fire is None:
            return "-"
        url = reverse("admin:engine_schedule_change", args=[fire.schedule_id])
        return format_html(
            '<a href="{}">{}</a> ({})',
            url,
            fire.schedule.name,
            local_time(fire.schedule, fire.scheduled_for),
        )

    # Both actions change runs: a user who may only view them must not be offered them.
    @admin.action(description="Cancel the selected runs", permissions=["change"])
    def cancel_runs(self, request: HttpRequest, queryset: QuerySet[Run]) -> None:
        self._apply(request, queryset, cancel_run, "cancelled")

    @admin.action(
        description="Retry the selected failed runs from their failed step", permissions=["change"]
    )
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


@admin.register(Timer)
class TimerAdmin(admin.ModelAdmin[Timer]):
    list_display = ["run", "kind", "due_at", "seq"]
    list_filter = ["kind"]
    raw_id_fields = ["run"]


@admin.register(StepRecord)
class StepRecordAdmin(ReadOnlyAdmin[StepRecord]):
    """The journal across runs: every attempt of every step, read-only."""

    # The list masks each row's name as its reader may read it, with the masks of the page's
    # runs made at once (one read of their inputs, one schema per version), not per row.
    list_display = ["run", "seq", "branch", "attempt", "kind", "shown_name", "status", "started_at"]
    list_filter = ["kind", "status", "superseded", "started_at"]
    search_fields = ["=run__id", "name", "run__workflow"]
    raw_id_fields = ["run", "child_run"]
    list_select_related = ["run"]
    exclude = ["name", "output", "error", "detail", "logs"]

    def get_search_fields(self, request: HttpRequest) -> list[str]:
        # Searching names would tell a reader which sensitive value a run was given.
        fields = list(super().get_search_fields(request))
        return fields if sees_clear(request.user) else [f for f in fields if f != "name"]

    readonly_fields = ["shown_name", "shown_output", "shown_error", "shown_detail", "shown_logs"]

    def get_object(
        self, request: HttpRequest, object_id: str, from_field: Any = None
    ) -> StepRecord | None:
        record = super().get_object(request, object_id, from_field)
        if record is not None:
            carry_mask(request, record, record.run)
        return record

    def get_changelist_instance(self, request: HttpRequest) -> ChangeList:
        changelist = super().get_changelist_instance(request)
        records: list[StepRecord] = list(changelist.result_list)  # the page's rows, kept
        runs = list({record.run_id: record.run for record in records}.values())
        masks = listed_masks(request.user, runs, PAGE_MASK)
        for record in records:
            carry_listed_mask(record, masks.get(record.run_id, NO_MASK))
        return changelist

    @admin.display(description="name")
    def shown_name(self, record: StepRecord) -> str:
        return step_name(record)

    @admin.display(description="output")
    def shown_output(self, record: StepRecord) -> SafeString:
        return step_field(record, "output")

    @admin.display(description="error")
    def shown_error(self, record: StepRecord) -> SafeString:
        return step_field(record, "error")

    @admin.display(description="detail")
    def shown_detail(self, record: StepRecord) -> SafeString:
        return step_field(record, "detail")

    @admin.display(description="log lines")
    def shown_logs(self, record: StepRecord) -> SafeString:
        return step_field(record, "logs")


@admin.register(RunMetric)
class RunMetricAdmin(ReadOnlyAdmin[RunMetric]):
    list_display = ["run", "name", "value", "recorded_at"]
    list_filter = ["name", "recorded_at"]
    search_fields = ["=run__id", "name"]
    raw_id_fields = ["run"]
