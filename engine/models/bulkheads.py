"""Bulkheads and workflow caps: limits on how much runs at once, shared by every worker."""

from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models

from engine.core.bulkheads import NAME_PATTERN
from engine.core.definitions import MAX_ACTIVE, SLUG_PATTERN

# The names code and nodes accept (engine.core.bulkheads): a row named otherwise could never be
# used by a step.
_NAME = RegexValidator(NAME_PATTERN, "Lowercase letters, digits, '.', '_' and '-'.")
# A workflow's slug as code and the designer accept it: a cap on any other name holds nothing.
_SLUG = RegexValidator(SLUG_PATTERN, "A workflow's slug: lowercase letters, digits and '-'.")


class LimitSource(models.TextChoices):
    DECLARED = "declared", "Declared in code or on a node"
    ADMIN = "admin", "Set in the admin"


class Bulkhead(models.Model):
    """A named resource at most `max_concurrent` steps use at once, across workers and runs.

    Declarations in code and on nodes set the limit; a row saved in the admin keeps its own
    limit (its source becomes admin) until an operator changes it again.
    """

    name = models.CharField(
        max_length=100,
        unique=True,
        validators=[_NAME],
        help_text="The resource's name, as steps and nodes use it (e.g. partner-api).",
    )
    max_concurrent = models.PositiveIntegerField(
        default=10, validators=[MinValueValidator(1), MaxValueValidator(10_000)]
    )
    source = models.CharField(
        max_length=8, choices=LimitSource.choices, default=LimitSource.DECLARED
    )
    description = models.CharField(max_length=200, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} (max {self.max_concurrent})"


class SlotState(models.TextChoices):
    HOLDING = "holding", "Holding"
    WAITING = "waiting", "Waiting"


class BulkheadSlot(models.Model):
    """A step's place at a bulkhead: a slot it holds (under a lease) or its turn in the queue.

    One row per step position: a redelivered or replayed step finds its own row again.
    """

    bulkhead = models.ForeignKey(Bulkhead, on_delete=models.CASCADE, related_name="slots")
    run = models.ForeignKey("engine.Run", on_delete=models.CASCADE, related_name="+")
    seq = models.PositiveIntegerField()
    branch = models.PositiveIntegerField(default=0)
    state = models.CharField(max_length=8, choices=SlotState.choices)
    priority = models.SmallIntegerField(default=0)
    queued_at = models.DateTimeField()
    granted_at = models.DateTimeField(null=True, blank=True)
    # A holder that stops renewing (its worker died) loses the slot when this passes.
    lease_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["bulkhead", "run", "seq", "branch"], name="bulkhead_slot_position"
            )
        ]
        indexes = [
            # Waiters in the order they are served: priority, then arrival.
            models.Index(
                "bulkhead",
                models.F("priority").desc(),
                "queued_at",
                name="bulkhead_waiters",
                condition=models.Q(state="waiting"),
            ),
            models.Index(
                fields=["lease_until"],
                name="bulkhead_leases",
                condition=models.Q(state="holding"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.state} {self.bulkhead_id}: run {self.run_id} step {self.seq}.{self.branch}"


class WorkflowCap(models.Model):
    """At most `max_active` runs of a workflow move at once (per value of an input field).

    Declared in code (`@workflow(max_active=...)`) or here in the admin; the admin row wins.
    """

    workflow = models.CharField(
        max_length=100,
        unique=True,
        validators=[_SLUG],
        help_text="The workflow's slug, as its runs name it (e.g. contract-signature).",
    )
    max_active = models.PositiveIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(MAX_ACTIVE)]
    )
    key_field = models.CharField(
        max_length=100,
        blank=True,
        help_text="An input field (e.g. customer_id): the cap counts runs per value of it.",
    )
    source = models.CharField(max_length=8, choices=LimitSource.choices, default=LimitSource.ADMIN)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["workflow"]

    def __str__(self) -> str:
        per = f" per {self.key_field}" if self.key_field else ""
        return f"{self.workflow}: {self.max_active}{per}"
