"""Engine state kept in the database, the source of truth for every process."""

from datetime import UTC, datetime

from django.db import models
from django.db.models import Value
from django.db.models.functions import Coalesce


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


class Run(models.Model):
    """One execution of a workflow, pinned to the definition version it started with."""

    workflow = models.CharField(max_length=100)
    kind = models.CharField(max_length=8, default="code")
    version = models.CharField(max_length=64)
    status = models.CharField(max_length=16, choices=RunStatus.choices, default=RunStatus.PENDING)
    input = models.JSONField(null=True, blank=True)
    output = models.JSONField(null=True, blank=True)
    error = models.JSONField(null=True, blank=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children"
    )
    trigger = models.CharField(max_length=16, choices=Trigger.choices, default=Trigger.API)
    trigger_ref = models.CharField(max_length=200, blank=True)
    # NULL, not "", for runs without a key: the unique constraint ignores NULLs.
    idempotency_key = models.CharField(max_length=200, null=True, blank=True)  # noqa: DJ001
    created_by = models.ForeignKey(
        "auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
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
    # "seq.branch" → how many times a compensation undid that step: its idempotency key's
    # generation when a retry does it again.
    redo = models.JSONField(default=dict, blank=True)

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
            # Event history shows the runs each event started: looked up by (trigger, ref).
            models.Index(
                fields=["trigger", "trigger_ref"],
                name="run_by_trigger_ref",
                condition=~models.Q(trigger_ref=""),
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
    child_run = models.ForeignKey(
        Run, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    retry_at = models.DateTimeField(null=True, blank=True)
    wake_at = models.DateTimeField(null=True, blank=True)
    superseded = models.BooleanField(default=False)

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
        ]

    def __str__(self) -> str:
        return f"{self.run_id}/{self.seq}.{self.branch} {self.name} #{self.attempt}"


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


class Event(models.Model):
    """The durable mailbox: every event once, matched to waits and triggers."""

    event_id = models.CharField(max_length=200, unique=True)
    type = models.CharField(max_length=200)
    payload = models.JSONField(default=dict, blank=True)
    source = models.CharField(max_length=100, blank=True)
    # How many runs this event is away from an outside event: a run started by an event of
    # depth d emits events of depth d + 1. Deep chains (a workflow re-triggering itself) stop.
    depth = models.PositiveIntegerField(default=0)
    received_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["type", "received_at"], name="event_by_type")]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"


class EventChannel(models.Model):
    """One row per event type, locked by deliveries and new waits of that type.

    The lock orders an event against a wait that begins at the same moment, so the event is
    either seen by the new wait or sees it: never neither.
    """

    type = models.CharField(max_length=200, primary_key=True)
    match_shapes = models.JSONField(
        default=list,
        blank=True,
        help_text="The sets of payload fields waits of this type have matched on.",
    )

    def __str__(self) -> str:
        return self.type


class WaitStatus(models.TextChoices):
    WAITING = "waiting", "Waiting"
    SATISFIED = "satisfied", "Satisfied"
    EXPIRED = "expired", "Expired"
    CANCELLED = "cancelled", "Cancelled"


class Wait(models.Model):
    """A run waiting at one position for an event of one type (several rows for any-of)."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="waits")
    seq = models.PositiveIntegerField()
    event_type = models.CharField(max_length=200)
    match = models.JSONField(null=True, blank=True)
    match_fields = models.CharField(max_length=500, blank=True)
    match_key = models.CharField(max_length=64, blank=True)
    filter = models.TextField(blank=True)
    # What a graph's filter may read besides the event and input (vars, nodes, loop item),
    # as it was when the wait began.
    filter_scope = models.JSONField(null=True, blank=True)
    deadline = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=WaitStatus.choices, default=WaitStatus.WAITING)
    event = models.ForeignKey(
        Event, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["run", "seq", "event_type"], name="wait_position")
        ]
        indexes = [
            models.Index(
                fields=["event_type", "match_fields", "match_key"],
                name="wait_open",
                condition=models.Q(status="waiting"),
            ),
        ]

    def __str__(self) -> str:
        return f"run {self.run_id} waits for {self.event_type}"


class RunMetric(models.Model):
    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="metrics")
    name = models.CharField(max_length=100)
    value = models.FloatField()
    recorded_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["run", "name", "recorded_at"], name="metric_series")]

    def __str__(self) -> str:
        return f"{self.name}={self.value:g}"


class DebounceSlot(models.Model):
    """The latest call of a debounced start; it runs once the window passes without calls."""

    workflow = models.CharField(max_length=100)
    key = models.CharField(max_length=200)
    input = models.JSONField(null=True, blank=True)
    calls = models.PositiveIntegerField(default=1)
    first_call_at = models.DateTimeField()
    due_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workflow", "key"], name="debounce_key")]
        indexes = [models.Index(fields=["due_at"], name="debounce_due")]

    def __str__(self) -> str:
        return f"{self.workflow}/{self.key}"


class GraphVersion(models.Model):
    """A published graph: immutable, numbered per workflow. Runs are pinned to one.

    The designer edits drafts; publishing hands the engine one of these, which is all the
    engine needs to run (and later replay) a graph workflow.
    """

    workflow = models.CharField(max_length=100)
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    graph = models.JSONField()
    note = models.TextField(blank=True)
    author = models.ForeignKey(
        "auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    published_at = models.DateTimeField()
    # A deleted workflow's versions stay for the runs pinned to them but start nothing new.
    retired = models.BooleanField(default=False)
    compensate_on_cancel = models.BooleanField(
        default=True, help_text="A cancelled run runs its compensation nodes before it ends."
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workflow", "number"], name="graph_version_number")
        ]
        ordering = ["workflow", "-number"]

    def __str__(self) -> str:
        return f"{self.workflow} v{self.number}"

    @property
    def version(self) -> str:
        return f"v{self.number}"


class TaskKind(models.TextChoices):
    APPROVAL = "approval", "Approval"
    REVIEW = "review", "Review"


NEVER = datetime(9999, 12, 31, tzinfo=UTC)
"""The due date of a task without one, when tasks sort by due date: after every real one."""


class TaskStatus(models.TextChoices):
    OPEN = "open", "Open"
    APPROVED = "approved", "Approved"
    CHANGES = "changes", "Changes requested"
    REJECTED = "rejected", "Rejected"
    TIMED_OUT = "timed_out", "Timed out"
    CANCELLED = "cancelled", "Cancelled"
    WITHDRAWN = "withdrawn", "Withdrawn"
    """A join no longer needed the branch that asked: a retry never reopens it."""


class HumanTask(models.Model):
    """An approval or review a run waits for; only its assignees may decide it."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="tasks")
    step_name = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=TaskKind.choices)
    title = models.CharField(max_length=300)
    description = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    assignees = models.ManyToManyField("auth.User", blank=True, related_name="assigned_tasks")
    assigned_groups = models.ManyToManyField("auth.Group", blank=True, related_name="tasks")
    required_approvals = models.PositiveIntegerField(default=1)
    status = models.CharField(max_length=16, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    created_at = models.DateTimeField()
    due_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    # Four-eyes: besides whoever started the run, the person the workflow names as requester
    # may not decide; nor may whoever decided one of the `distinct_from` stages of this run.
    requester = models.ForeignKey(
        "auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    distinct_from = models.JSONField(default=list, blank=True)
    any_rejection_rejects = models.BooleanField(
        default=True,
        help_text="The first rejection rejects an approval (else only when the "
        "rejections leave too few people to approve).",
    )
    # A group task claimed by one member is theirs alone until they let it go.
    claimed_by = models.ForeignKey(
        "auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="claimed_tasks"
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    # What the people deciding fill in when they approve (a small JSON Schema), and the
    # decisions that need a comment (e.g. a rejection must say why).
    form = models.JSONField(default=dict, blank=True)
    comment_required = models.JSONField(default=list, blank=True)
    # The task's clock as its workflow set it, for people to see (the run's timers keep it).
    remind_at = models.DateTimeField(null=True, blank=True)
    escalate_to = models.JSONField(default=dict, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["run", "step_name"], name="task_per_step")]
        indexes = [
            models.Index(fields=["status", "-created_at"], name="task_open"),
            # The inbox reads open tasks in due order and stops at a page (bench/inbox.py).
            models.Index(
                Coalesce("due_at", Value(NEVER), output_field=models.DateTimeField()),
                "id",
                name="task_open_by_due",
                condition=models.Q(status="open"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.title}"


class TaskDecision(models.Model):
    """One assignee's decision with its comment: the audit trail of a task."""

    task = models.ForeignKey(HumanTask, on_delete=models.CASCADE, related_name="decisions")
    # The person whose decision it is (an assignee), counted once per task...
    user = models.ForeignKey("auth.User", on_delete=models.PROTECT, related_name="+")
    # ...and who took it for them, when a delegate acted on their behalf.
    decided_by = models.ForeignKey(
        "auth.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decision = models.CharField(max_length=16)
    comment = models.TextField(blank=True)
    form = models.JSONField(default=dict, blank=True)
    decided_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["task", "user"], name="one_decision_per_assignee")
        ]
        ordering = ["decided_at"]

    def __str__(self) -> str:
        return f"{self.user} {self.decision}"


class TaskEventKind(models.TextChoices):
    CREATED = "created", "Created"
    CLAIMED = "claimed", "Claimed"
    UNCLAIMED = "unclaimed", "Let go"
    REASSIGNED = "reassigned", "Reassigned"
    REMINDED = "reminded", "Reminded"
    ESCALATED = "escalated", "Escalated"
    DECISION = "decision", "Decision"
    REFUSED = "refused", "Refused"
    SETTLED = "settled", "Settled"
    CLOSED = "closed", "Closed"
    REOPENED = "reopened", "Reopened"


class TaskEvent(models.Model):
    """One line of a task's audit trail: what happened, who did it (for whom), when, why."""

    task = models.ForeignKey(HumanTask, on_delete=models.CASCADE, related_name="history")
    kind = models.CharField(max_length=16, choices=TaskEventKind.choices)
    actor = models.ForeignKey(
        "auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    on_behalf_of = models.ForeignKey(
        "auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.TextField(blank=True)
    detail = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["task", "at"], name="task_history")]

    def __str__(self) -> str:
        return f"{self.task_id} {self.kind}"


class Delegation(models.Model):
    """Out of office: `delegate` decides `user`'s tasks between two dates, on their behalf.

    Not transitive: a delegate acts only on tasks assigned to `user` themselves.
    """

    user = models.ForeignKey("auth.User", on_delete=models.CASCADE, related_name="delegations")
    delegate = models.ForeignKey("auth.User", on_delete=models.CASCADE, related_name="+")
    starts_on = models.DateField()
    ends_on = models.DateField()
    workflows = models.JSONField(
        default=list, blank=True, help_text="Only these workflows' tasks (all when empty)."
    )
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(user=models.F("delegate")), name="delegate_is_someone_else"
            ),
            models.CheckConstraint(
                condition=models.Q(starts_on__lte=models.F("ends_on")), name="delegation_dates"
            ),
        ]
        indexes = [models.Index(fields=["delegate", "ends_on"], name="delegated_to")]

    def __str__(self) -> str:
        return f"{self.user} → {self.delegate} ({self.starts_on} to {self.ends_on})"


class SavedView(models.Model):
    """A person's named inbox query (view, filters, sort), one click away."""

    user = models.ForeignKey("auth.User", on_delete=models.CASCADE, related_name="saved_views")
    name = models.CharField(max_length=100)
    params = models.JSONField(default=dict)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "name"], name="saved_view_name_per_user")
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.name}"


class UsedDecisionLink(models.Model):
    """A one-click decision link that decided: its nonce, so the same link never decides again."""

    nonce = models.CharField(max_length=64, unique=True)
    task = models.ForeignKey(HumanTask, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey("auth.User", on_delete=models.CASCADE, related_name="+")
    decision = models.CharField(max_length=16)
    used_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.user_id} {self.decision} on task {self.task_id}"


class Record(models.Model):
    """A document in a named collection: what the `action.record` node creates and queries."""

    collection = models.CharField(max_length=100)
    key = models.CharField(max_length=100)
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    # The step that created it, so a retried create returns the same record.
    created_by_step = models.CharField(max_length=300, null=True, blank=True)  # noqa: DJ001

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["collection", "key"], name="record_key"),
            models.UniqueConstraint(
                fields=["created_by_step"],
                name="record_created_once",
                condition=models.Q(created_by_step__isnull=False),
            ),
        ]
        indexes = [models.Index(fields=["collection", "-created_at"], name="record_recent")]

    def __str__(self) -> str:
        return f"{self.collection}/{self.key}"


class OverlapPolicy(models.TextChoices):
    SKIP = "skip", "Skip the fire"
    BUFFER_ONE = "buffer_one", "Buffer one fire until the previous run ends"
    ALLOW_ALL = "allow_all", "Start it anyway"
    CANCEL_PREVIOUS = "cancel_previous", "Cancel the previous run"


class CatchUpPolicy(models.TextChoices):
    SKIP = "skip", "Skip missed fires"
    RUN_ONCE = "run_once", "Run once for all missed fires"
    RUN_ALL = "run_all", "Run each missed fire (up to the limit)"


class ScheduleSource(models.TextChoices):
    ADMIN = "admin", "Admin"
    CODE = "code", "Code workflow"
    GRAPH = "graph", "Graph trigger"


class Schedule(models.Model):
    """When a workflow starts by itself: a cron expression or an interval, in a time zone.

    The sweeper claims due rows (next_fire_at <= now) with SKIP LOCKED, records the fire and
    moves next_fire_at on in the same transaction, so each fire happens once.
    """

    name = models.CharField(max_length=200)
    workflow = models.CharField(max_length=100)
    source = models.CharField(
        max_length=8, choices=ScheduleSource.choices, default=ScheduleSource.ADMIN
    )
    # Code and graph schedules are kept in step with their declaration under this key.
    source_key = models.CharField(max_length=300, blank=True)
    cron = models.CharField(max_length=200, blank=True)
    interval_seconds = models.PositiveIntegerField(null=True, blank=True)
    timezone = models.CharField(max_length=64, default="UTC")
    start_at = models.DateTimeField(null=True, blank=True)
    end_at = models.DateTimeField(null=True, blank=True)
    jitter_seconds = models.PositiveIntegerField(default=0)
    input = models.JSONField(null=True, blank=True)
    overlap = models.CharField(
        max_length=16, choices=OverlapPolicy.choices, default=OverlapPolicy.SKIP
    )
    catch_up = models.CharField(
        max_length=16, choices=CatchUpPolicy.choices, default=CatchUpPolicy.RUN_ONCE
    )
    catch_up_limit = models.PositiveIntegerField(default=10)
    paused = models.BooleanField(default=False)
    next_fire_at = models.DateTimeField(null=True, blank=True)
    # overlap=buffer_one: the nominal time of a fire held back until the previous run ends.
    buffered_for = models.DateTimeField(null=True, blank=True)
    last_fired_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["source", "source_key"],
                name="schedule_declared_once",
                condition=~models.Q(source="admin"),
            )
        ]
        indexes = [models.Index(fields=["paused", "next_fire_at"], name="schedule_due")]

    def __str__(self) -> str:
        return self.name


class FireOutcome(models.TextChoices):
    STARTED = "started", "Started a run"
    SKIPPED = "skipped", "Skipped (previous run still going)"
    BUFFERED = "buffered", "Buffered until the previous run ends"
    MISSED = "missed", "Missed (catch-up policy)"
    REPLACED = "replaced", "Started after cancelling the previous run"


class ScheduleFire(models.Model):
    """One fire of a schedule: its nominal time, what happened and the run it started."""

    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="fires")
    scheduled_for = models.DateTimeField()
    fired_at = models.DateTimeField()
    outcome = models.CharField(max_length=16, choices=FireOutcome.choices)
    run = models.ForeignKey(
        Run, null=True, blank=True, on_delete=models.SET_NULL, related_name="schedule_fires"
    )
    manual = models.BooleanField(default=False, help_text="Fired by 'run now'.")

    class Meta:
        constraints = [
            # Each nominal time fires once, however many sweepers race for it.
            models.UniqueConstraint(
                fields=["schedule", "scheduled_for"],
                name="schedule_fires_once",
                condition=models.Q(manual=False),
            )
        ]
        indexes = [models.Index(fields=["schedule", "-scheduled_for"], name="fire_history")]

    def __str__(self) -> str:
        return f"{self.schedule} at {self.scheduled_for:%Y-%m-%d %H:%M}"


class EventTrigger(models.Model):
    """A graph workflow's subscription to an event type, kept in step with its published
    version's `trigger.event` nodes (code workflows subscribe in memory with `on`)."""

    workflow = models.CharField(max_length=100)
    node = models.CharField(max_length=64)
    event_type = models.CharField(max_length=200)
    filter = models.TextField(blank=True)
    # Debounce: one run per key after the window closes, with the last event.
    debounce_key = models.TextField(blank=True)
    debounce_seconds = models.FloatField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workflow", "node", "event_type"], name="event_trigger_once"
            )
        ]
        indexes = [models.Index(fields=["event_type"], name="trigger_by_event")]

    def __str__(self) -> str:
        return f"{self.event_type} → {self.workflow}"


class WebhookEndpoint(models.Model):
    """A signed entry point at /hooks/<slug>: maps deliveries to an event or a workflow run."""

    slug = models.SlugField(max_length=100, unique=True)
    title = models.CharField(max_length=200, blank=True)
    # HMAC needs the secret itself; it is shown once when created or rotated.
    secret = models.CharField(max_length=200)
    previous_secret = models.CharField(max_length=200, blank=True)
    previous_secret_until = models.DateTimeField(null=True, blank=True)
    tolerance_seconds = models.PositiveIntegerField(default=300)
    max_body_bytes = models.PositiveIntegerField(default=1_000_000)
    event_type = models.CharField(max_length=200, blank=True)
    workflow = models.CharField(max_length=100, blank=True)
    input = models.JSONField(
        null=True, blank=True, help_text="Templates over `event` shaping the run input."
    )
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.title or self.slug


class DeliveryStatus(models.TextChoices):
    ACCEPTED = "accepted", "Accepted"
    PROCESSED = "processed", "Processed"
    FAILED = "failed", "Failed"


class WebhookDelivery(models.Model):
    """An accepted delivery (rejected ones change nothing), processed after the 202."""

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    delivery_id = models.CharField(max_length=200)
    received_at = models.DateTimeField()
    status = models.CharField(
        max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.ACCEPTED
    )
    body = models.TextField()
    headers = models.JSONField(default=dict)
    error = models.TextField(blank=True)
    event = models.ForeignKey(
        Event, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    run = models.ForeignKey(Run, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    processed_at = models.DateTimeField(null=True, blank=True)
    replays = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            # A delivery id seen before is a replay: refused, never processed twice.
            models.UniqueConstraint(fields=["endpoint", "delivery_id"], name="delivery_once")
        ]
        indexes = [models.Index(fields=["endpoint", "-received_at"], name="delivery_recent")]

    def __str__(self) -> str:
        return f"{self.endpoint} {self.delivery_id}"
