"""Circuit breakers and rate limits in the admin: definitions that override what steps and
nodes declare (engine.resilience.definitions), each shown with its live state; a breaker can be
reset here by staff whose roles allow it."""

from typing import Any

from django.contrib import admin
from django.contrib.admin import ActionLocation
from django.contrib.admin.views.main import ChangeList
from django.db.models import QuerySet
from django.http import HttpRequest

from accounts.roles import Capability, can
from engine.admin.readonly import ReadOnlyAdmin
from engine.models import BreakerDefinition, RateLimitDefinition, ResilienceState
from engine.resilience.actions import do_reset_breaker
from engine.resilience.breakers import BreakerStatus, all_breakers, breaker_status
from engine.resilience.definitions import forget_definitions
from engine.resilience.rate_limits import LimiterUsage, all_rate_limits

BOTH_PLACES = [ActionLocation.CHANGE_LIST, ActionLocation.CHANGE_FORM]
STATE_LABELS = {"closed": "closed", "open": "OPEN", "half_open": "half-open"}
LIVE = "_live"
"""The attribute a listed definition's live state is kept in, read once for the whole page."""


class ForgetsCachedDefinitions(admin.ModelAdmin):  # type: ignore[type-arg]
    """This process reads a saved definition at once; workers within their refresh interval."""

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        forget_definitions()

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        super().delete_model(request, obj)
        forget_definitions()


@admin.register(BreakerDefinition)
class BreakerDefinitionAdmin(ForgetsCachedDefinitions):
    list_display = ("name", "state", "failures", "failure_threshold", "window", "cool_down")
    search_fields = ("name", "description")
    actions = ["reset_breakers"]
    fieldsets = (
        (None, {"fields": ("name", "description")}),
        ("Opens", {"fields": ("failure_threshold", "window", "failure_rate", "minimum_calls")}),
        ("Recovers", {"fields": ("cool_down", "half_open_probes")}),
    )

    def get_changelist_instance(self, request: HttpRequest) -> ChangeList:
        changelist = super().get_changelist_instance(request)
        statuses = {status.name: status for status in all_breakers()}
        for definition in changelist.result_list:
            setattr(definition, LIVE, statuses.get(definition.name))
        return changelist

    @staticmethod
    def _status(obj: BreakerDefinition) -> BreakerStatus | None:
        if hasattr(obj, LIVE):
            live: BreakerStatus | None = getattr(obj, LIVE)
            return live
        return breaker_status(obj.name)

    @admin.display(description="State")
    def state(self, obj: BreakerDefinition) -> str:
        status = self._status(obj)
        if status is None:
            return "closed"
        label = STATE_LABELS.get(status.status, status.status)
        return f"{label} (opened {status.opens} times)" if status.opens else label

    @admin.display(description="Failures in window")
    def failures(self, obj: BreakerDefinition) -> int:
        status = self._status(obj)
        return status.failures_in_window if status else 0

    @admin.action(description="Reset the selected breakers (close them now)", location=BOTH_PLACES)
    def reset_breakers(self, request: HttpRequest, queryset: QuerySet[BreakerDefinition]) -> None:
        if not can(request.user, Capability.RESET_BREAKERS):
            self.message_user(request, "Your roles do not allow resetting breakers.", "error")
            return
        for definition in queryset:
            do_reset_breaker(definition.name, request.user)
        self.message_user(request, f"{len(queryset)} breaker(s) closed.")


@admin.register(RateLimitDefinition)
class RateLimitDefinitionAdmin(ForgetsCachedDefinitions):
    list_display = ("name", "limit", "period", "on_limit", "usage")
    search_fields = ("name", "description")
    fields = ("name", "description", "limit", "period", "key", "on_limit")

    def get_changelist_instance(self, request: HttpRequest) -> ChangeList:
        changelist = super().get_changelist_instance(request)
        usages = {usage.name: usage for usage in all_rate_limits(top=3)}
        for definition in changelist.result_list:
            setattr(definition, LIVE, usages.get(definition.name))
        return changelist

    @admin.display(description="Busiest keys now")
    def usage(self, obj: RateLimitDefinition) -> str:
        found: LimiterUsage | None
        if hasattr(obj, LIVE):
            found = getattr(obj, LIVE)
        else:
            found = next(
                (usage for usage in all_rate_limits(top=3) if usage.name == obj.name), None
            )
        if found is None or not found.keys:
            return "idle"
        return ", ".join(f"{key or '(all)'}: {used}/{obj.limit}" for key, used in found.keys)


@admin.register(ResilienceState)
class ResilienceStateAdmin(ReadOnlyAdmin[ResilienceState]):
    """The database backend's raw shared state, for checking what the workers see; breakers are
    reset from their definitions, never by editing this."""

    list_display = ("kind", "name", "key", "expires_at", "updated_at")
    list_filter = ("kind",)
    search_fields = ("name", "key")
