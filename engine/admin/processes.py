"""The engine's processes in the admin: heartbeats and worker probes."""

from django.contrib import admin
from django.http import HttpRequest

from engine.models import (
    ProcessHeartbeat,
    WorkerProbe,
)


@admin.register(ProcessHeartbeat)
class ProcessHeartbeatAdmin(admin.ModelAdmin[ProcessHeartbeat]):
    list_display = ["kind", "name", "started_at", "last_seen"]
    list_filter = ["kind"]
    readonly_fields = ["kind", "name", "started_at", "last_seen", "details"]


@admin.register(WorkerProbe)
class WorkerProbeAdmin(admin.ModelAdmin[WorkerProbe]):
    list_display = ["id", "requested_by", "requested_at", "answered_by", "answered_at"]
    list_filter = ["requested_at"]
    readonly_fields = ["requested_by", "requested_at", "answered_at", "answered_by"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
