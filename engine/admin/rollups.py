"""The rollups dashboards read: browsable for checking a figure, never edited by hand
(`manage.py rebuild_rollups` recomputes them from the runs)."""

from django.contrib import admin

from engine.admin.readonly import ReadOnlyAdmin
from engine.models import MetricRollup, RunRollup, StepRollup


@admin.register(RunRollup)
class RunRollupAdmin(ReadOnlyAdmin[RunRollup]):
    # A busy minute is a few rows (its shards: engine.runtime.rollups.SHARDS); they add up.
    list_display = ["minute", "workflow", "shard", "started", "completed", "failed", "cancelled"]
    list_filter = ["workflow"]
    date_hierarchy = "minute"


@admin.register(StepRollup)
class StepRollupAdmin(ReadOnlyAdmin[StepRollup]):
    list_display = ["minute", "workflow", "step", "shard", "completed", "failed", "retrying"]
    list_filter = ["workflow"]
    search_fields = ["step"]
    date_hierarchy = "minute"


@admin.register(MetricRollup)
class MetricRollupAdmin(ReadOnlyAdmin[MetricRollup]):
    list_display = ["minute", "workflow", "name", "count", "value_sum", "value_min", "value_max"]
    list_filter = ["workflow"]
    search_fields = ["name"]
    date_hierarchy = "minute"
