"""Per-minute rollups of runs and steps, kept up to date by the engine as they end.

Dashboards and /metrics read these instead of the runs: a week is at most 10,080 rows per
workflow, however many millions of runs it held. Each histogram is one counter column per
bucket of engine.core.histograms (`d00`… durations, `w00`… queue waits), so an ending adds to
them with one `INSERT … ON CONFLICT DO UPDATE SET n = n + excluded.n`
(engine.runtime.rollups).
"""

from django.db import models

from engine.core.histograms import BUCKETS


def duration_columns(prefix: str) -> list[str]:
    return [f"{prefix}{index:02d}" for index in range(BUCKETS)]


def shard_field() -> "models.PositiveSmallIntegerField[int, int]":
    return models.PositiveSmallIntegerField(
        default=0,
        db_default=0,
        help_text="Runs add to one of a few rows a minute (engine.runtime.rollups.SHARDS), so "
        "two workers never wait for each other's commit. Sum over them.",
    )


class RunRollup(models.Model):
    """One minute of one workflow: runs started and ended there, their durations and waits."""

    minute = models.DateTimeField()
    workflow = models.CharField(max_length=100)
    shard = shard_field()
    started = models.PositiveBigIntegerField(default=0)
    completed = models.PositiveBigIntegerField(default=0)
    failed = models.PositiveBigIntegerField(default=0)
    cancelled = models.PositiveBigIntegerField(default=0)
    timed_out = models.PositiveBigIntegerField(default=0)
    duration_sum = models.FloatField(default=0.0, help_text="Seconds, runs that ended.")
    # Queue wait: created (or scheduled for) until a worker first picked the run up.
    waited = models.PositiveBigIntegerField(default=0)
    wait_sum = models.FloatField(default=0.0, help_text="Seconds.")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["minute", "workflow", "shard"], name="run_rollup_bucket"
            )
        ]
        indexes = [models.Index(fields=["workflow", "minute"], name="run_rollup_by_workflow")]

    def __str__(self) -> str:
        return f"{self.workflow} at {self.minute:%Y-%m-%d %H:%M}"


class StepRollup(models.Model):
    """One minute of one step of one workflow: attempts that ended there, by outcome."""

    minute = models.DateTimeField()
    workflow = models.CharField(max_length=100)
    step = models.CharField(max_length=200)
    shard = shard_field()
    completed = models.PositiveBigIntegerField(default=0)
    failed = models.PositiveBigIntegerField(default=0)
    retrying = models.PositiveBigIntegerField(default=0, help_text="Failed, to be retried.")
    duration_sum = models.FloatField(default=0.0, help_text="Seconds, every attempt.")
    # A run that shows this step at its slowest or failing, for the dashboard's links.
    slowest_run = models.BigIntegerField(null=True, blank=True)
    slowest_seconds = models.FloatField(default=0.0)
    failed_run = models.BigIntegerField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["minute", "workflow", "step", "shard"], name="step_rollup_bucket"
            )
        ]
        indexes = [models.Index(fields=["workflow", "minute"], name="step_rollup_by_workflow")]

    def __str__(self) -> str:
        return f"{self.workflow}/{self.step} at {self.minute:%Y-%m-%d %H:%M}"


class MetricRollup(models.Model):
    """One minute of one metric() name of one workflow: how many values, their sum and range."""

    minute = models.DateTimeField()
    workflow = models.CharField(max_length=100)
    name = models.CharField(max_length=100)
    count = models.PositiveBigIntegerField(default=0)
    value_sum = models.FloatField(default=0.0)
    value_min = models.FloatField()
    value_max = models.FloatField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["minute", "workflow", "name"], name="metric_rollup_bucket"
            )
        ]
        indexes = [
            models.Index(fields=["workflow", "name", "minute"], name="metric_rollup_series"),
            # The dashboard's busiest names across every workflow in a period.
            models.Index(fields=["minute"], name="metric_rollup_by_minute"),
        ]

    def __str__(self) -> str:
        return f"{self.workflow}/{self.name} at {self.minute:%Y-%m-%d %H:%M}"


# The histogram counters, one column per bucket (fields added in a loop, not typed out).
for _column in duration_columns("d"):
    RunRollup.add_to_class(_column, models.PositiveBigIntegerField(default=0))
    StepRollup.add_to_class(_column, models.PositiveBigIntegerField(default=0))
for _column in duration_columns("w"):
    RunRollup.add_to_class(_column, models.PositiveBigIntegerField(default=0))
