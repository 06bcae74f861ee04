"""Schedules in the admin: kept by operators, previewed in their own zone, paused, resumed and
run now; and the history of their fires."""

from typing import Any
from zoneinfo import available_timezones

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import ActionLocation
from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from accounts.roles import Capability, can
from engine.admin.display import local_time, run_change_link
from engine.admin.json_input import JSON_INPUT_FIELDS
from engine.admin.priority_field import RunPriorityField
from engine.core.definitions import all_workflows
from engine.core.errors import DefinitionError
from engine.core.schedules import MAX_CATCH_UP_LIMIT
from engine.inbound.schedules import (
    describe,
    pause,
    resume,
    run_now,
    save_schedule,
    schedule_input_problem,
    schedule_problems,
    upcoming,
)
from engine.models import (
    GraphVersion,
    Schedule,
    ScheduleFire,
    ScheduleSource,
)
from engine.runtime.resolving import UnknownWorkflow

# The schedule's fields, each named once: the form, its sections and what is read-only are
# made of these groups.
WHAT = ("name", "workflow", "input", "priority")
WHEN = ("cron", "interval_seconds", "timezone", "start_at", "end_at", "jitter_seconds")
POLICIES = ("overlap", "catch_up", "catch_up_limit")
KEPT_BY_ENGINE = (
    "source",
    "source_key",
    "next_fire_at",
    "buffered_for",
    "last_fired_at",
    "created_at",
    "updated_at",
)
# What a declaration in code or in a graph sets: read-only on a declared schedule.
DECLARED_FIELDS = [*WHAT, *WHEN, *POLICIES]


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
    priority = RunPriorityField()
    # The bound a code declaration has: each fire computes this many fire times.
    catch_up_limit = forms.IntegerField(
        min_value=0,
        max_value=MAX_CATCH_UP_LIMIT,
        initial=10,
        help_text=f"How many missed fires 'run each missed fire' runs at most "
        f"(0\N{EN DASH}{MAX_CATCH_UP_LIMIT}).",
        error_messages={
            "max_value": f"the catch-up limit is at most {MAX_CATCH_UP_LIMIT} missed fires",
        },
    )

    class Meta:
        model = Schedule
        fields = [*WHAT, "paused", *WHEN, *POLICIES]
        help_texts = {
            "cron": "Five fields (minute hour day-of-month month day-of-week), e.g. "
            "0 9 * * 1-5, or a shortcut: @hourly, @daily, @weekly, @monthly, @yearly.",
            "interval_seconds": "Instead of cron: every this many seconds, counted from the "
            "start (or from midnight UTC); at most 366 days (31622400 seconds).",
            "jitter_seconds": "Delay each fire by up to this many seconds, the same delay "
            "whichever process fires it.",
            "input": "The JSON input each run starts with ({} when empty); it must match the "
            "workflow's input schema.",
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
        if "input" in self.fields and "input" not in self.errors:
            if cleaned.get("input") is None:
                cleaned["input"] = {}
            workflow = value("workflow")
            problem = schedule_input_problem(workflow, cleaned["input"]) if workflow else None
            if problem is not None:
                problems = {**problems, "input": f"does not match the workflow: {problem}"}
        for name, message in problems.items():
            if name in self.fields and name not in self.errors:
                self.add_error(name, message)
            elif name not in self.fields:
                self.add_error(None, message)
        return cleaned


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
    formfield_overrides = JSON_INPUT_FIELDS
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
        (None, {"fields": [*WHAT, "paused"]}),
        ("When", {"fields": [*WHEN, "next_fire_times"]}),
        ("When the previous run is still going, or fires were missed", {"fields": POLICIES}),
        ("State", {"fields": KEPT_BY_ENGINE}),
        ("History", {"fields": ["recent_fires"]}),
    ]
    state_fields = [*KEPT_BY_ENGINE, "next_fire_times", "recent_fires"]

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
        return local_time(schedule, schedule.next_fire_at) if schedule.next_fire_at else "never"

    @admin.display(description="Last fire", ordering="last_fired_at")
    def last_fire(self, schedule: Schedule) -> str:
        return local_time(schedule, schedule.last_fired_at)

    @admin.display(description="Next five fire times")
    def next_fire_times(self, schedule: Schedule) -> SafeString | str:
        if schedule.pk is None:
            return "Shown once the schedule is saved."
        try:
            times = upcoming(schedule, 5)
        except DefinitionError as error:
            return f"None: {error}"
        if not times:
            return "None: no further fire times (the schedule has ended)."
        items = format_html_join(
            "",
            '<li><time datetime="{}">{}</time></li>',
            ((t.isoformat(), local_time(schedule, t)) for t in times),
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
                    local_time(schedule, fire.scheduled_for)
                    + (" (run now)" if fire.manual else ""),
                    local_time(schedule, fire.fired_at),
                    fire.get_outcome_display(),
                    run_change_link(fire.run),
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
        return run_change_link(fire.run)
