"""Signs of life of the engine's processes: worker and timer-loop heartbeats, worker probes."""

from django.db import models


class ProcessKind(models.TextChoices):
    WORKER = "worker", "Celery worker"
    TIMER = "timer", "Timer loop"


class ProcessHeartbeat(models.Model):
    """The last sign of life of one worker or timer loop, for /health and the admin."""

    kind = models.CharField(max_length=16, choices=ProcessKind.choices)
    name = models.CharField(max_length=255, help_text="Worker hostname or timer loop name.")
    started_at = models.DateTimeField()
    last_seen = models.DateTimeField()
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "name"], name="heartbeat_unique_process")
        ]
        indexes = [models.Index(fields=["kind", "-last_seen"], name="heartbeat_latest")]

    def __str__(self) -> str:
        return f"{self.kind} {self.name}"


class WorkerProbe(models.Model):
    """A round trip through the broker to a worker and back into the database."""

    requested_by = models.ForeignKey(
        "auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_at = models.DateTimeField()
    answered_at = models.DateTimeField(null=True, blank=True)
    answered_by = models.CharField(max_length=255, blank=True)

    def __str__(self) -> str:
        return f"probe {self.pk}"

    @property
    def round_trip_ms(self) -> float | None:
        if self.answered_at is None:
            return None
        return (self.answered_at - self.requested_at).total_seconds() * 1000
