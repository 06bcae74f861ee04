"""Circuit breakers and rate limits in the admin: definitions that override what steps and
nodes declare (engine.resilience.definitions), each shown with its live state; a breaker can be
reset here by staff whose roles allow it."""

from typing import Any

from django.contrib import admin
from django.contrib.admin import ActionLocation
from django.db.models import QuerySet
from django.http import HttpRequest

from accounts.roles import Capability, can
from engine.admin.readonly import ReadOnlyAdmin
from engine.models import BreakerDefinition, RateLimitDefinition, ResilienceState
from engine.resilience.actions import do_reset_breaker
from engine.resilience.breakers import breaker_status
from engine.resilience.definitions import forget_definitions
from engine.resilience.rate_limits import all_rate_limits

BOTH_PLACES = [ActionLocation.CHANGE_LIST, ActionLocation.CHANGE_FORM]
STATE_LABELS = {"closed": "closed", "open": "OPEN", "half_open": "half-open"}


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

    @admin.display(description="State")
    def state(self, obj: BreakerDefinition) -> str:
        status = breaker_status(obj.name)
        if status is None:
            return "closed"
        label = STATE_LABELS.get(status.status, status.status)
        return f"{label} (opened {status.opens} times)" if status.opens else label

    @admin.display(description="Failures in window")
    def failures(self, obj: BreakerDefinition) -> int:
        status = breaker_status(obj.name)
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

    @admin.display(description="Busiest keys now")
    def usage(self, obj: RateLimitDefinition) -> str:
        found = next((usage for usage in all_rate_limits(top=3) if usage.name == obj.name), None)
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
