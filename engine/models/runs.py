"""Runs and what the engine keeps for them: the journal, timers, metrics."""

from django.db import models


class RunStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    WAITING = "waiting", "Waiting"
    PAUSED = "paused", "Paused"
    CANCELLING = "cancelling", "Cancelling"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"
    TIMED_OUT = "timed_out", "Timed out"


TERMINAL_STATUSES = frozenset(
    {RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.CANCELLED, RunStatus.TIMED_OUT}
)
ACTIVE_STATUSES = frozenset(
    {
        RunStatus.SCHEDULED,
        RunStatus.PENDING,
        RunStatus.RUNNING,
        RunStatus.WAITING,
        RunStatus.PAUSED,
        RunStatus.CANCELLING,
    }
)
ADVANCING_STATUSES = (RunStatus.RUNNING, RunStatus.CANCELLING)
"""The statuses in which a lease holder advances a run (a cancelling one runs its undo)."""


class Trigger(models.TextChoices):
    MANUAL = "manual", "Manual"
    API = "api", "API"
    EVENT = "event", "Event"
    SCHEDULE = "schedule", "Schedule"
    WEBHOOK = "webhook", "Webhook"
    CHILD = "child", "Child workflow"
    DEBOUNCE = "debounce", "Debounce"
    MACHINE = "machine", "State machine event"


class Run(models.Model):
    """One execution of a workflow, pinned to the definition version it started with."""

    workflow = models.CharField(max_length=100)
    kind = models.CharField(max_length=8, default="code")
    version = models.CharField(max_length=64)
    status = models.CharField(max_length=16, choices=RunStatus.choices, default=RunStatus.PENDING)
    input = models.JSONField(null=True, blank=True)
    output = models.JSONField(null=True, blank=True)
    error = models.JSONField(null=True, blank=True)
    # Foreign keys that are mostly NULL are indexed by partial indexes (Meta) only: every
    # status change of a run writes a new row version into each index of the table.
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="children",
        db_index=False,
    )
    # How many runs started this one as a child, detached ones included (they have no parent).
    depth = models.PositiveSmallIntegerField(default=0)
    trigger = models.CharField(max_length=16, choices=Trigger.choices, default=Trigger.API)
    trigger_ref = models.CharField(max_length=200, blank=True)
    # NULL, not "", for runs without a key: the unique constraint ignores NULLs.
    idempotency_key = models.CharField(max_length=200, null=True, blank=True)  # noqa: DJ001
    created_by = models.ForeignKey(
        "auth.User",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    created_at = models.DateTimeField()
    scheduled_for = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    deadline_at = models.DateTimeField(null=True, blank=True)
    progress = models.JSONField(null=True, blank=True)
    # Advancing: one worker at a time holds the lease; wakers set wake_requested so that a
    # holder about to suspend goes round once more instead of missing the wake.
    lease_owner = models.CharField(max_length=100, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    wake_requested = models.BooleanField(default=False)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    # Where a failed, cancelled or timed-out run stopped: where a retry resumes it.
    stopped_at = models.PositiveIntegerField(null=True, blank=True)
    # Each time the run ended and was retried: {"ended": iso, "retried": iso}, oldest first.
    # The journal cannot tell the time it stood stopped from time spent queueing.
    stops = models.JSONField(default=list, blank=True)
    # "seq.branch" → how many times a compensation undid that step: its idempotency key's
    # generation when a retry does it again.
    redo = models.JSONField(default=dict, blank=True)
    # A designer's test of a draft (version `draft rev N`), not a run of a published version.
    is_test = models.BooleanField(default=False)
    # A re-run or fork of another run (engine.runtime.forking): the same version, new input.
    forked_from = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="forks",
        db_index=False,
    )
    # None for a re-run from the start; n for a fork that reused the journal before step n.
    forked_at_seq = models.PositiveIntegerField(null=True, blank=True)
    # Higher first: orders runs queued behind a workflow cap and steps queued at a bulkhead.
    priority = models.SmallIntegerField(default=0)
    # "" for runs of uncapped workflows; "held" while a cap queues it, then "admitted"
    # (engine.resilience.priorities). The key is the capped input field's value.
    admission = models.CharField(max_length=8, blank=True, default="")
    concurrency_key = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workflow", "idempotency_key"],
                name="run_idempotency_key",
                condition=models.Q(idempotency_key__isnull=False),
            )
        ]
        indexes = [
            models.Index(fields=["-created_at"], name="run_recent"),
            models.Index(fields=["workflow", "-created_at"], name="run_by_workflow"),
            models.Index(fields=["status", "-created_at"], name="run_by_status"),
            models.Index(
                fields=["parent"], name="run_children", condition=models.Q(parent__isnull=False)
            ),
            # The recovery sweeper looks only at runs that should be moving.
            models.Index(
                fields=["dispatched_at"],
                name="run_runnable",
                condition=models.Q(status__in=["pending", "running", "cancelling"]),
            ),
            # Admission under a workflow cap: the held runs in the order they are let in.
            models.Index(
                "workflow",
                "concurrency_key",
                models.F("priority").desc(),
                "created_at",
                name="run_held",
                condition=models.Q(admission="held"),
            ),
            # Retention prunes ended runs oldest first (engine.runtime.retention).
            models.Index(
                fields=["finished_at"],
                name="run_ended",
                condition=models.Q(status__in=["completed", "failed", "cancelled", "timed_out"]),
            ),
            # Event history shows the runs each event started: looked up by (trigger, ref).
            models.Index(
                fields=["trigger", "trigger_ref"],
                name="run_by_trigger_ref",
                condition=~models.Q(trigger_ref=""),
            ),
            # The runs explorer (engine.runtime.run_search). Its PostgreSQL-only indexes (GIN on
            # input and output, a trigram index for the text search, duration) are made by
            # migration 0015 itself, so that SQLite still migrates.
            models.Index(
                fields=["-created_at"],
                name="run_active_recent",
                condition=models.Q(
                    status__in=[
                        "scheduled",
                        "pending",
                        "running",
                        "waiting",
                        "paused",
                        "cancelling",
                    ]
                ),
            ),
            models.Index(
                fields=["created_by", "-created_at"],
                name="run_by_creator",
                condition=models.Q(created_by__isnull=False),
            ),
            models.Index(fields=["trigger", "-created_at"], name="run_by_trigger"),
            models.Index(
                fields=["forked_from"],
                name="run_forks",
                condition=models.Q(forked_from__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.workflow} #{self.pk}"

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES


class StepRecord(models.Model):
    """The journal: one row per attempt of each operation at each position of a run."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="steps")
    seq = models.PositiveIntegerField()
    branch = models.PositiveIntegerField(default=0, help_text="0: the run itself; n: branch n.")
    attempt = models.PositiveIntegerField(default=1)
    kind = models.CharField(max_length=16)
    name = models.CharField(max_length=200)
    status = models.CharField(max_length=16)
    output = models.JSONField(null=True, blank=True)
    error = models.JSONField(null=True, blank=True)
    detail = models.JSONField(null=True, blank=True)
    # Indexed by step_child only, like Run's mostly-NULL foreign keys.
    child_run = models.ForeignKey(
        Run, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    retry_at = models.DateTimeField(null=True, blank=True)
    wake_at = models.DateTimeField(null=True, blank=True)
    superseded = models.BooleanField(default=False)
    # What log() wrote during this attempt, bounded (engine.core.logs): [{at, level, message}].
    logs = models.JSONField(null=True, blank=True)

    class Meta:
        constraints = [
            # The fence: two advancers can never both journal the same position.
            models.UniqueConstraint(
                fields=["run", "seq", "branch", "attempt"],
                name="step_position",
                condition=models.Q(superseded=False),
            )
        ]
        indexes = [
            models.Index(
                fields=["child_run"], name="step_child", condition=models.Q(child_run__isnull=False)
            ),
            # The recovery sweeper looks only at parallel steps in flight.
            models.Index(
                fields=["started_at"],
                name="step_in_flight",
                condition=models.Q(status="dispatched"),
            ),
            # The runs explorer's "failed at step" filter.
            models.Index(
                fields=["name", "run"], name="step_failed", condition=models.Q(status="failed")
            ),
        ]

    def __str__(self) -> str:
        # No name: a workflow may build one from sensitive input, and the admin shows this
        # to readers who may not see it (engine.runtime.masking).
        return f"run {self.run_id}, step {self.seq}.{self.branch}, attempt {self.attempt}"


class TimerKind(models.TextChoices):
    WAKE = "wake", "Wake the run"
    START = "start", "Start a scheduled run"
    RUN_TIMEOUT = "run_timeout", "Run timeout"
    BRANCH_RETRY = "branch_retry", "Retry a parallel step"


class Timer(models.Model):
    """A due time; the timer loop claims due rows with SKIP LOCKED and deletes them."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="timers")
    kind = models.CharField(max_length=16, choices=TimerKind.choices)
    due_at = models.DateTimeField()
    seq = models.PositiveIntegerField(null=True, blank=True)
    branch = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["due_at"], name="timer_due")]

    def __str__(self) -> str:
        return f"{self.kind} of run {self.run_id} at {self.due_at:%Y-%m-%d %H:%M:%S}"


class RunMetric(models.Model):
    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="metrics")
    name = models.CharField(max_length=100)
    value = models.FloatField()
    recorded_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["run", "name", "recorded_at"], name="metric_series")]

    def __str__(self) -> str:
        return f"{self.name}={self.value:g}"
