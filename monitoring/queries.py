"""Read-only queries behind the monitoring pages."""

from django.db.models import QuerySet

from engine.models import Run

RECENT_RUNS = 50


def recent_runs(status: str | None = None) -> QuerySet[Run]:
    runs = Run.objects.order_by("-created_at").only(
        "id", "workflow", "status", "trigger", "created_at", "finished_at", "progress"
    )
    if status:
        runs = runs.filter(status=status)
    return runs[:RECENT_RUNS]
