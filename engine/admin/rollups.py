"""The rollups dashboards read: browsable for checking a figure, never edited by hand
(`manage.py rebuild_rollups` recomputes them from the runs)."""

from django.contrib import admin

from engine.admin.readonly import ReadOnlyAdmin
from engine.models import RunRollup, StepRollup


@admin.register(RunRollup)
class RunRollupAdmin(ReadOnlyAdmin[RunRollup]):
    list_display = ["minute", "workflow", "started", "completed", "failed", "cancelled"]
    list_filter = ["workflow"]
    date_hierarchy = "minute"


@admin.register(StepRollup)
class StepRollupAdmin(ReadOnlyAdmin[StepRollup]):
    list_display = ["minute", "workflow", "step", "completed", "failed", "retrying"]
    list_filter = ["workflow"]
    search_fields = ["step"]
    date_hierarchy = "minute"
