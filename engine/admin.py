"""The engine's tables in the Django admin: runs with their journal, schedules, events, timers."""

from datetime import datetime
from typing import Any, TypeVar
from zoneinfo import available_timezones

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import ActionLocation
from django.contrib.auth.models import User
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from config.accounts.roles import Capability, can
from engine.actions import RunStateError, cancel_run, retry_run
from engine.core.cron import zone_of
from engine.core.definitions import all_workflows
from engine.core.errors import DefinitionError
from engine.definitions import UnknownWorkflow
from engine.models import (
    DebounceSlot,
    Delegation,
    Event,
    EventChannel,
    GraphVersion,
    HumanTask,
    ProcessHeartbeat,
    Record,
    Run,
    RunMetric,
    SavedView,
    Schedule,
    ScheduleFire,
    ScheduleSource,
    StepRecord,
    TaskDecision,
    TaskEvent,
    Timer,
    Trigger,
    UsedDecisionLink,
    Wait,
    WorkerProbe,
)
from engine.schedules import (
    describe,
    pause,
    resume,
    run_now,
    save_schedule,
    schedule_problems,
    upcoming,
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


_M = TypeVar("_M", bound=models.Model)


class ReadOnlyAdmin(admin.ModelAdmin[_M]):
    """Records the engine writes: browsable, never added or edited by hand."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


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
    readonly_fields = [*(field.name for field in Run._meta.fields), "started_by_schedule"]
    inlines = [StepInline, MetricInline]
    actions = ["cancel_runs", "retry_runs"]
    list_select_related = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def view_on_site(self, run: Run) -> str:
        # "View on site" opens the run page; reversed by name, so the engine imports no monitoring.
        return reverse("run-detail", args=[run.pk])

    @admin.display(description="Started by schedule")
    def started_by_schedule(self, run: Run) -> str:
        if run.trigger != Trigger.SCHEDULE:
            return "-"
        fire = run.schedule_fires.select_related("schedule").first()
        if fire is None:
            return "-"
        url = reverse("admin:engine_schedule_change", args=[fire.schedule_id])
        return format_html(
            '<a href="{}">{}</a> ({})',
            url,
            fire.schedule.name,
            _local(fire.schedule, fire.scheduled_for),
        )

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
class GraphVersionAdmin(ReadOnlyAdmin[GraphVersion]):
    """Published versions are immutable: the admin shows them, never edits them."""

    list_display = ["workflow", "number", "title", "author", "published_at", "retired"]
    list_filter = ["retired", "published_at"]
    search_fields = ["workflow", "title", "note"]


class DecisionInline(ReadOnlyInline):
    model = TaskDecision
    fields = ["user", "decided_by", "decision", "comment", "decided_at"]


class TaskHistoryInline(ReadOnlyInline):
    model = TaskEvent
    fields = ["at", "kind", "actor", "on_behalf_of", "note", "detail"]


@admin.register(HumanTask)
class HumanTaskAdmin(ReadOnlyAdmin[HumanTask]):
    """Tasks and their audit trail, read-only: decisions, claims and reassignments go through
    the inbox and the tasks API, where the four-eyes rule and the history are kept."""

    list_display = [
        "id",
        "kind",
        "title",
        "status",
        "run",
        "claimed_by",
        "created_at",
        "due_at",
        "decided_at",
    ]
    list_filter = ["kind", "status", "created_at"]
    search_fields = ["title", "run__workflow"]
    raw_id_fields = ["run"]
    inlines = [DecisionInline, TaskHistoryInline]


@admin.register(TaskEvent)
class TaskEventAdmin(ReadOnlyAdmin[TaskEvent]):
    """Every task's audit trail across tasks: who did what, for whom, when and why."""

    list_display = ["task", "kind", "actor", "on_behalf_of", "at"]
    list_filter = ["kind", "at"]
    search_fields = ["task__title", "actor__username", "note"]
    list_select_related = ["task", "actor", "on_behalf_of"]


@admin.register(SavedView)
class SavedViewAdmin(ReadOnlyAdmin[SavedView]):
    """People's saved inbox views."""

    list_display = ["user", "name", "created_at"]
    search_fields = ["user__username", "name"]


@admin.register(UsedDecisionLink)
class UsedDecisionLinkAdmin(ReadOnlyAdmin[UsedDecisionLink]):
    """One-click decision links that were used (each works once)."""

    list_display = ["task", "user", "decision", "used_at"]
    list_filter = ["decision", "used_at"]


@admin.register(Delegation)
class DelegationAdmin(ReadOnlyAdmin[Delegation]):
    """Out-of-office rules, set by each person on their own delegation page."""

    list_display = ["user", "delegate", "starts_on", "ends_on", "workflows", "created_at"]
    list_filter = ["starts_on", "ends_on"]
    search_fields = ["user__username", "delegate__username"]


@admin.register(Record)
class RecordAdmin(admin.ModelAdmin[Record]):
    list_display = ["collection", "key", "created_at", "updated_at"]
    list_filter = ["collection"]
    search_fields = ["collection", "key"]


@admin.register(StepRecord)
class StepRecordAdmin(ReadOnlyAdmin[StepRecord]):
    """The journal across runs: every attempt of every step, read-only."""

    list_display = ["run", "seq", "branch", "attempt", "kind", "name", "status", "started_at"]
    list_filter = ["kind", "status", "superseded", "started_at"]
    search_fields = ["=run__id", "name", "run__workflow"]
    raw_id_fields = ["run", "child_run"]
    list_select_related = ["run"]


@admin.register(RunMetric)
class RunMetricAdmin(ReadOnlyAdmin[RunMetric]):
    list_display = ["run", "name", "value", "recorded_at"]
    list_filter = ["name", "recorded_at"]
    search_fields = ["=run__id", "name"]
    raw_id_fields = ["run"]


@admin.register(TaskDecision)
class TaskDecisionAdmin(ReadOnlyAdmin[TaskDecision]):
    """The audit trail of human tasks: who decided what, when, with which comment."""

    list_display = ["task", "user", "decided_by", "decision", "decided_at"]
    list_filter = ["decision", "decided_at"]
    search_fields = ["task__title", "user__username", "comment"]
    list_select_related = ["task", "user"]


@admin.register(EventChannel)
class EventChannelAdmin(admin.ModelAdmin[EventChannel]):
    list_display = ["type"]
    search_fields = ["type"]
    readonly_fields = ["type", "match_shapes"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(WorkerProbe)
class WorkerProbeAdmin(admin.ModelAdmin[WorkerProbe]):
    list_display = ["id", "requested_by", "requested_at", "answered_by", "answered_at"]
    list_filter = ["requested_at"]
    readonly_fields = ["requested_by", "requested_at", "answered_at", "answered_by"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


# --- schedules -------------------------------------------------------------------------------


def _local(schedule: Schedule, moment: datetime | None) -> str:
    """A moment in the schedule's own time zone, as its owner reads it."""
    if moment is None:
        return "-"
    try:
        zone = zone_of(schedule.timezone)
    except DefinitionError:
        return f"{moment:%Y-%m-%d %H:%M %Z}"
    return f"{moment.astimezone(zone):%a %Y-%m-%d %H:%M %Z}"


def _workflow_choices(current: str) -> list[tuple[str, str]]:
    code = [(d.slug, f"{d.slug} (code: {d.title})") for d in all_workflows()]
    graphs = sorted(
        set(GraphVersion.objects.filter(retired=False).values_list("workflow", flat=True))
    )
    choices = [*code, *((slug, f"{slug} (graph)") for slug in graphs)]
    if current and current not in {slug for slug, _ in choices}:
        choices.append((current, f"{current} (not found)"))
    return [("", "---------"), *sorted(choices)]


class ScheduleForm(forms.ModelForm):  # type: ignore[type-arg]
    """The schedule's fields; its timing is checked as a whole, each problem on its field."""

    workflow = forms.ChoiceField(choices=[])
    timezone = forms.ChoiceField(
        choices=[(name, name) for name in sorted(available_timezones())],
        initial="UTC",
        help_text="Cron times are read on this zone's clock, daylight saving included.",
    )

    class Meta:
        model = Schedule
        fields = [
            "name",
            "workflow",
            "input",
            "paused",
            "cron",
            "interval_seconds",
            "timezone",
            "start_at",
            "end_at",
            "jitter_seconds",
            "overlap",
            "catch_up",
            "catch_up_limit",
        ]
        help_texts = {
            "cron": "Five fields (minute hour day-of-month month day-of-week), e.g. "
            "0 9 * * 1-5, or a shortcut: @hourly, @daily, @weekly, @monthly, @yearly.",
            "interval_seconds": "Instead of cron: every this many seconds, counted from the "
            "start (or from midnight UTC).",
            "jitter_seconds": "Delay each fire by up to this many seconds, the same delay "
            "whichever process fires it.",
            "input": "The JSON input each run starts with.",
            "catch_up_limit": "How many missed fires 'run each missed fire' runs at most.",
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "workflow" in self.fields:
            field = self.fields["workflow"]
            assert isinstance(field, forms.ChoiceField)
            field.choices = _workflow_choices(self.instance.workflow)

    def clean_cron(self) -> str:
        return " ".join(str(self.cleaned_data.get("cron") or "").split())

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}

        def value(name: str) -> Any:
            # Read-only fields (declared schedules) are not in the form: use the saved value.
            return cleaned.get(name) if name in self.fields else getattr(self.instance, name)

        problems = schedule_problems(
            cron=value("cron") or "",
            interval_seconds=value("interval_seconds"),
            timezone_name=value("timezone") or "UTC",
            start_at=value("start_at"),
            end_at=value("end_at"),
            jitter_seconds=value("jitter_seconds") or 0,
        )
        for name, message in problems.items():
            if name in self.fields and name not in self.errors:
                self.add_error(name, message)
            elif name not in self.fields:
                self.add_error(None, message)
        return cleaned


DECLARED_FIELDS = [
    "name",
    "workflow",
    "input",
    "cron",
    "interval_seconds",
    "timezone",
    "start_at",
    "end_at",
    "jitter_seconds",
    "overlap",
    "catch_up",
    "catch_up_limit",
]
HISTORY_SHOWN = 20
BOTH_PLACES = [ActionLocation.CHANGE_LIST, ActionLocation.CHANGE_FORM]


class KeptByOperators:
    """Staff with the operators' role keep schedules here, as their role says, without being
    given Django model permissions one by one."""

    def _operator(self, request: HttpRequest) -> bool:
        user = request.user
        return bool(user.is_active and user.is_staff and can(user, Capability.EDIT_SCHEDULES))

    def has_module_permission(self, request: HttpRequest) -> bool:
        return super().has_module_permission(request) or self._operator(request)  # type: ignore[misc]

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_view_permission(request, obj) or self._operator(request)  # type: ignore[misc]


@admin.register(Schedule)
class ScheduleAdmin(KeptByOperators, admin.ModelAdmin[Schedule]):
    """Schedules kept by people here, or declared in code and graphs (then only pausable)."""

    form = ScheduleForm
    list_display = [
        "name",
        "workflow",
        "when",
        "timezone",
        "next_fire",
        "paused",
        "last_fire",
        "source",
    ]
    list_filter = ["paused", "source", "overlap", "catch_up", "workflow", "timezone"]
    search_fields = ["name", "workflow", "cron", "source_key"]
    ordering = ["name"]
    actions = ["pause_schedules", "resume_schedules", "run_schedules_now"]
    fieldsets = [
        (None, {"fields": ["name", "workflow", "input", "paused"]}),
        (
            "When",
            {
                "fields": [
                    "cron",
                    "interval_seconds",
                    "timezone",
                    "start_at",
                    "end_at",
                    "jitter_seconds",
                    "next_fire_times",
                ]
            },
        ),
        (
            "When the previous run is still going, or fires were missed",
            {"fields": ["overlap", "catch_up", "catch_up_limit"]},
        ),
        (
            "State",
            {
                "fields": [
                    "source",
                    "source_key",
                    "next_fire_at",
                    "buffered_for",
                    "last_fired_at",
                    "created_at",
                    "updated_at",
                ]
            },
        ),
        ("History", {"fields": ["recent_fires"]}),
    ]
    state_fields = [
        "source",
        "source_key",
        "next_fire_at",
        "buffered_for",
        "last_fired_at",
        "created_at",
        "updated_at",
        "next_fire_times",
        "recent_fires",
    ]

    def get_readonly_fields(self, request: HttpRequest, obj: Schedule | None = None) -> list[str]:
        if obj is not None and obj.source != ScheduleSource.ADMIN:
            # Its declaration in code or in a graph is the truth; only pausing is up to people.
            return [*DECLARED_FIELDS, *self.state_fields]
        return list(self.state_fields)

    def save_model(self, request: HttpRequest, obj: Schedule, form: Any, change: Any) -> None:
        save_schedule(obj, form.changed_data if change else None)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Schedule]) -> None:
        declared = queryset.exclude(source=ScheduleSource.ADMIN)
        if declared.exists():
            self.message_user(
                request,
                "Schedules declared in code or in a graph come back with their declaration: "
                "pause them instead, or remove them from the code or the graph.",
                level=messages.WARNING,
            )
        queryset.filter(source=ScheduleSource.ADMIN).delete()

    def has_add_permission(self, request: HttpRequest) -> bool:
        return super().has_add_permission(request) or self._operator(request)

    def has_change_permission(self, request: HttpRequest, obj: Schedule | None = None) -> bool:
        return super().has_change_permission(request, obj) or self._operator(request)

    def has_delete_permission(self, request: HttpRequest, obj: Schedule | None = None) -> bool:
        if obj is not None and obj.source != ScheduleSource.ADMIN:
            return False
        return super().has_delete_permission(request, obj) or self._operator(request)

    @admin.display(description="When")
    def when(self, schedule: Schedule) -> str:
        try:
            return describe(schedule)
        except DefinitionError:
            return schedule.cron or f"every {schedule.interval_seconds} s"

    @admin.display(description="Next fire", ordering="next_fire_at")
    def next_fire(self, schedule: Schedule) -> str:
        if schedule.paused:
            return "paused"
        return _local(schedule, schedule.next_fire_at) if schedule.next_fire_at else "never"

    @admin.display(description="Last fire", ordering="last_fired_at")
    def last_fire(self, schedule: Schedule) -> str:
        return _local(schedule, schedule.last_fired_at)

    @admin.display(description="Next five fire times")
    def next_fire_times(self, schedule: Schedule) -> SafeString | str:
        if schedule.pk is None:
            return "Shown once the schedule is saved."
        try:
            times = upcoming(schedule, 5)
        except DefinitionError as error:
            return f"None: {error}"
        if not times:
            return "None: the schedule has ended."
        items = format_html_join(
            "",
            '<li><time datetime="{}">{}</time></li>',
            ((t.isoformat(), _local(schedule, t)) for t in times),
        )
        note = " Paused: it fires at these times once resumed." if schedule.paused else ""
        return format_html(
            '<ol class="next-fire-times" data-testid="next-fire-times">{}</ol>'
            "<p>In {}, for the schedule as saved.{}</p>",
            items,
            schedule.timezone,
            note,
        )

    @admin.display(description="Recent fires")
    def recent_fires(self, schedule: Schedule) -> SafeString | str:
        if schedule.pk is None:
            return "-"
        fires = list(
            schedule.fires.select_related("run").order_by("-fired_at", "-id")[:HISTORY_SHOWN]
        )
        if not fires:
            return "No fires yet."
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    _local(schedule, fire.scheduled_for) + (" (run now)" if fire.manual else ""),
                    _local(schedule, fire.fired_at),
                    fire.get_outcome_display(),
                    _run_link(fire.run),
                )
                for fire in fires
            ),
        )
        total = schedule.fires.count()
        history = (
            reverse("admin:engine_schedulefire_changelist") + f"?schedule__id__exact={schedule.pk}"
        )
        return format_html(
            "<table><thead><tr><th>Scheduled for</th><th>Fired at</th><th>Outcome</th>"
            "<th>Run</th></tr></thead><tbody>{}</tbody></table>"
            '<p><a href="{}">All {} fires</a></p>',
            rows,
            history,
            total,
        )

    @admin.action(description="Pause the selected schedules", location=BOTH_PLACES)
    def pause_schedules(self, request: HttpRequest, queryset: QuerySet[Schedule]) -> None:
        for schedule in queryset:
            pause(schedule)
        self.message_user(request, f"{len(queryset)} schedule(s) paused.")

    @admin.action(
        description="Resume the selected schedules (from now on, nothing caught up)",
        location=BOTH_PLACES,
    )
    def resume_schedules(self, request: HttpRequest, queryset: QuerySet[Schedule]) -> None:
        for schedule in queryset:
            resume(schedule)
        self.message_user(request, f"{len(queryset)} schedule(s) resumed.")

    @admin.action(description="Run the selected schedules now", location=BOTH_PLACES)
    def run_schedules_now(self, request: HttpRequest, queryset: QuerySet[Schedule]) -> None:
        user = request.user if isinstance(request.user, User) else None
        for schedule in queryset:
            try:
                run = run_now(schedule, user)
            except UnknownWorkflow as error:
                self.message_user(request, f"{schedule.name}: {error}", level=messages.WARNING)
                continue
            self.message_user(
                request,
                format_html(
                    '{}: started <a href="{}">run {}</a>.',
                    schedule.name,
                    reverse("admin:engine_run_change", args=[run.pk]),
                    run.pk,
                ),
            )


def _run_link(run: Run | None) -> SafeString | str:
    if run is None:
        return "-"
    url = reverse("admin:engine_run_change", args=[run.pk])
    return format_html('<a href="{}">run {}</a> ({})', url, run.pk, run.get_status_display())


@admin.register(ScheduleFire)
class ScheduleFireAdmin(KeptByOperators, admin.ModelAdmin[ScheduleFire]):
    """Every fire of every schedule with what became of it; read-only."""

    list_display = ["schedule", "scheduled_for", "fired_at", "outcome", "manual", "run_link"]
    list_filter = ["outcome", "manual", "fired_at", "schedule"]
    search_fields = ["schedule__name", "schedule__workflow", "=run__id"]
    date_hierarchy = "fired_at"
    list_select_related = ["schedule", "run"]
    ordering = ["-fired_at", "-id"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.display(description="Run")
    def run_link(self, fire: ScheduleFire) -> SafeString | str:
        return _run_link(fire.run)


# Webhook endpoints, their deliveries and event subscriptions.
from engine import admin_webhooks  # noqa: E402, F401
