"""How work enters: events and the waits they satisfy, debounced starts, schedules and
their fires, event subscriptions, webhook endpoints and deliveries."""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from engine.core.priority import MAX_PRIORITY
from engine.models.runs import Run, Trigger

RUN_PRIORITY_HELP = (
    f"The priority of the runs it starts, from -{MAX_PRIORITY} (last) to {MAX_PRIORITY} "
    "(first): it orders them behind a workflow cap and at bulkheads."
)


def run_priority_field() -> models.SmallIntegerField:  # type: ignore[type-arg]
    """The priority a start gives the runs it makes (engine.core.priority)."""
    return models.SmallIntegerField(
        default=0,
        validators=[MinValueValidator(-MAX_PRIORITY), MaxValueValidator(MAX_PRIORITY)],
        help_text=RUN_PRIORITY_HELP,
    )


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


class DebounceSlot(models.Model):
    """The latest call of a debounced start; it runs once the window passes without calls."""

    workflow = models.CharField(max_length=100)
    key = models.CharField(max_length=200)
    input = models.JSONField(null=True, blank=True)
    priority = run_priority_field()
    calls = models.PositiveIntegerField(default=1)
    first_call_at = models.DateTimeField()
    due_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workflow", "key"], name="debounce_key")]
        indexes = [models.Index(fields=["due_at"], name="debounce_due")]

    def __str__(self) -> str:
        return f"{self.workflow}/{self.key}"


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
    priority = run_priority_field()
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
    REFUSED = "refused", "Refused: over STEPWISE_MAX_RUNS_PER_MINUTE (the run failed at once)"


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

    @classmethod
    def that_started(cls, run: Run) -> "ScheduleFire | None":
        """The fire that started `run`, its schedule fetched with it; None when no schedule did.

        The admin and the run page both name the schedule behind a run from this one lookup.
        """
        if run.trigger != Trigger.SCHEDULE:
            return None
        return run.schedule_fires.select_related("schedule").first()


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
    priority = run_priority_field()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workflow", "node", "event_type"], name="event_trigger_once"
            )
        ]
        indexes = [models.Index(fields=["event_type"], name="trigger_by_event")]

    def __str__(self) -> str:
        return f"{self.event_type} → {self.workflow}"


class Verification(models.TextChoices):
    """How an endpoint proves a delivery came from its sender (docs/webhooks.md)."""

    STANDARD = "standard", "Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature)"
    STEPWISE_LEGACY = "stepwise-legacy", "Stepwise-Signature (deprecated: its id is not signed)"
    STRIPE = "stripe", "Stripe (Stripe-Signature)"
    GITHUB = "github", "GitHub (X-Hub-Signature-256, X-GitHub-Delivery)"
    SLACK = "slack", "Slack (X-Slack-Signature, X-Slack-Request-Timestamp)"
    SHARED_SECRET = "shared-secret", "A header that carries the secret itself"


class WebhookEndpoint(models.Model):
    """A signed entry point at /hooks/<slug>: maps deliveries to an event or a workflow run."""

    slug = models.SlugField(max_length=100, unique=True)
    title = models.CharField(max_length=200, blank=True)
    # HMAC needs the secret itself; it is shown once when created or rotated.
    secret = models.CharField(max_length=200)
    previous_secret = models.CharField(max_length=200, blank=True)
    previous_secret_until = models.DateTimeField(null=True, blank=True)
    verification = models.CharField(
        max_length=20, choices=Verification.choices, default=Verification.STANDARD
    )
    secret_header = models.CharField(
        max_length=100,
        default="X-Webhook-Secret",
        help_text="The header that carries the secret (shared-secret verification only).",
    )
    tolerance_seconds = models.PositiveIntegerField(default=300)
    max_body_bytes = models.PositiveIntegerField(default=1_000_000)
    event_type = models.CharField(max_length=200, blank=True)
    workflow = models.CharField(max_length=100, blank=True)
    input = models.JSONField(
        null=True, blank=True, help_text="Templates over `event` shaping the run input."
    )
    priority = run_priority_field()
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
