"""State machines: published versions, instances keyed by an entity, and each instance's events.

An instance's row is its state: which state it is in, its context and since when. Every event
sent to it is a MachineEvent row, applied one at a time in the order received (the history
and the queue in one table); a delayed transition is a MachineTimer row.
"""

from django.db import models


class MachineVersion(models.Model):
    """A published machine: immutable, numbered per machine. Instances are pinned to one."""

    machine = models.CharField(max_length=100)
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    definition = models.JSONField()
    note = models.TextField(blank=True)
    author = models.ForeignKey(
        "auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    published_at = models.DateTimeField()
    # A deleted machine's versions stay for the instances pinned to them but start none.
    retired = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["machine", "number"], name="machine_version_number")
        ]
        ordering = ["machine", "-number"]

    def __str__(self) -> str:
        return f"{self.machine} v{self.number}"


class InstanceStatus(models.TextChoices):
    ACTIVE = "active"
    FINAL = "final"


class MachineInstance(models.Model):
    """One entity's machine (`order-1042` of `order`): its state, context and pinned version."""

    machine = models.CharField(max_length=100)
    version = models.PositiveIntegerField()
    key = models.CharField(max_length=200)
    state = models.CharField(max_length=64)
    context = models.JSONField(default=dict)
    status = models.CharField(
        max_length=10, choices=InstanceStatus.choices, default=InstanceStatus.ACTIVE
    )
    entered_at = models.DateTimeField()
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    created_by = models.ForeignKey(
        "auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The run applying an event right now; events that arrive meanwhile wait their turn.
    applying = models.ForeignKey(
        "engine.Run", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["machine", "key"], name="machine_instance_key")
        ]
        indexes = [models.Index(fields=["machine", "state"], name="instance_by_state")]
        ordering = ["machine", "key"]

    def __str__(self) -> str:
        return f"{self.machine}:{self.key} ({self.state})"


class MachineEventStatus(models.TextChoices):
    PENDING = "pending"
    APPLYING = "applying"
    APPLIED = "applied"
    REFUSED = "refused"
    FAILED = "failed"


class MachineEvent(models.Model):
    """An event sent to an instance, and what it did: the instance's history."""

    instance = models.ForeignKey(MachineInstance, on_delete=models.CASCADE, related_name="events")
    # The sender's id makes sending idempotent; one the engine made when the sender gave none.
    event_id = models.CharField(max_length=200)
    name = models.CharField(max_length=100)
    data = models.JSONField(default=dict)
    source = models.CharField(max_length=20, default="api")
    status = models.CharField(
        max_length=10, choices=MachineEventStatus.choices, default=MachineEventStatus.PENDING
    )
    from_state = models.CharField(max_length=64, blank=True)
    to_state = models.CharField(max_length=64, blank=True)
    transition = models.CharField(max_length=100, blank=True)
    reason = models.TextField(blank=True)
    guard = models.TextField(blank=True)
    # [{"phase": "exit"|"transition"|"entry", "state", "type", "output"|"error"}]
    actions = models.JSONField(default=list)
    actor = models.ForeignKey(
        "auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    run = models.ForeignKey(
        "engine.Run", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    received_at = models.DateTimeField()
    applied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["instance", "event_id"], name="machine_event_once")
        ]
        indexes = [
            models.Index(fields=["instance", "status", "id"], name="machine_event_queue"),
            models.Index(fields=["name", "received_at"], name="machine_event_by_name"),
        ]
        ordering = ["instance", "id"]

    def __str__(self) -> str:
        return f"{self.name} → {self.instance_id} ({self.status})"


class MachineTimer(models.Model):
    """A delayed transition (`after: "30d"`) counting from the moment its state was entered;
    a timer of a state the instance has left since is stale and fires nothing."""

    instance = models.ForeignKey(MachineInstance, on_delete=models.CASCADE, related_name="timers")
    transition = models.CharField(max_length=100)
    entered_at = models.DateTimeField()
    due_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["due_at"], name="machine_timer_due")]
        ordering = ["due_at"]

    def __str__(self) -> str:
        return f"{self.transition} of {self.instance_id} at {self.due_at:%Y-%m-%d %H:%M}"
