"""Circuit breakers and rate limits: what an administrator declares, and their shared state.

A definition made here overrides, for every step that uses its name, what the step or node
declared (engine.resilience.definitions says the rule). The state rows are the database
backend of engine.resilience.state; with Redis configured the state lives in Redis instead.
"""

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models

from engine.core.expressions import ExpressionError
from engine.core.resilience import NAME_PATTERN
from engine.core.templates import compile_template

_NAME_HELP = "The dependency's name, as steps and nodes use it (e.g. payments-api)."
_NAME = RegexValidator(NAME_PATTERN, "Lowercase letters, digits, '.', '_' and '-'.")
_SECONDS = [MinValueValidator(timedelta(seconds=0.001)), MaxValueValidator(timedelta(days=7))]


class OnLimit(models.TextChoices):
    DELAY = "delay", "Delay the step until its slot (durably)"
    FAIL = "fail", "Fail the attempt (its retry policy decides)"


class BreakerDefinition(models.Model):
    """An administrator's settings for a named circuit breaker."""

    name = models.CharField(
        max_length=100,
        unique=True,
        help_text=_NAME_HELP,
        validators=[_NAME],
    )
    description = models.CharField(max_length=200, blank=True)
    failure_threshold = models.PositiveIntegerField(
        default=5,
        validators=[MinValueValidator(1), MaxValueValidator(10_000)],
        help_text="Failures within the window that open the breaker.",
    )
    window = models.DurationField(
        default=timedelta(seconds=60), validators=_SECONDS, help_text="e.g. 00:01:00"
    )
    failure_rate = models.FloatField(
        null=True,
        blank=True,
        validators=[MinValueValidator(0.01), MaxValueValidator(1.0)],
        help_text="Open instead when this share of calls in the window failed (0.01 to 1).",
    )
    minimum_calls = models.PositiveIntegerField(
        default=10,
        validators=[MinValueValidator(1), MaxValueValidator(100_000)],
        help_text="Calls in the window before the failure rate counts.",
    )
    cool_down = models.DurationField(
        default=timedelta(seconds=30),
        validators=_SECONDS,
        help_text="How long it stays open before half-open probes.",
    )
    half_open_probes = models.PositiveIntegerField(
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text="Probe calls let through when half-open; that many successes close it.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class RateLimitDefinition(models.Model):
    """An administrator's settings for a named rate limit."""

    name = models.CharField(max_length=100, unique=True, help_text=_NAME_HELP, validators=[_NAME])
    description = models.CharField(max_length=200, blank=True)
    limit = models.PositiveIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(1_000_000)],
        help_text="Calls allowed per period, for each key.",
    )
    period = models.DurationField(validators=_SECONDS, help_text="e.g. 00:01:00")
    key = models.CharField(
        max_length=500,
        blank=True,
        help_text="Template of the key, e.g. {{ input.customer }}; blank keeps the step's own.",
    )
    on_limit = models.CharField(max_length=8, choices=OnLimit.choices, default=OnLimit.DELAY)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        # The template is compiled as every worker compiles it (engine.core.resilience's
        # RateLimitSpec): a key saved broken would fail each step that uses a rate limit.
        super().clean()
        if self.key:
            try:
                compile_template(self.key)
            except ExpressionError as wrong:
                raise ValidationError({"key": str(wrong)}) from None


class StateKind(models.TextChoices):
    BREAKER = "breaker"
    RATE_LIMIT = "rate_limit"


class ResilienceState(models.Model):
    """The database backend's shared state of one breaker, or of one key of a rate limit."""

    kind = models.CharField(max_length=16, choices=StateKind.choices)
    name = models.CharField(max_length=100)
    key = models.CharField(max_length=200, blank=True, default="")
    state = models.JSONField(default=dict)
    expires_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "name", "key"], name="resilience_state_key")
        ]
        # The retention sweep deletes lapsed rows by their expiry.
        indexes = [models.Index(fields=["expires_at"], name="resilience_state_expiry")]

    def __str__(self) -> str:
        return f"{self.kind} {self.name} {self.key}".strip()
