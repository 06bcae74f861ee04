"""GET /metrics: what Prometheus scrapes, read from the database at scrape time.

Counters and histograms come from the rollups (engine.models.rollups). Summing every rollup
row at each scrape would grow with history, so each process keeps the totals of minutes older
than a few minutes (when no ending can still land in them) and each scrape adds only the rows
of the minutes since; the totals are recomputed from scratch every hour, which also picks up a
rebuild_rollups. The rest are small indexed counts of what is true now.
"""

import math
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Count, Min, Q, Sum
from django.utils import timezone
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector, CollectorRegistry

from engine.core.histograms import cumulative
from engine.models import (
    ACTIVE_STATUSES,
    HumanTask,
    ProcessHeartbeat,
    Run,
    RunRollup,
    StepRollup,
    TaskStatus,
    Timer,
)
from engine.models.rollups import duration_columns

SETTLED_AFTER = timedelta(minutes=5)
"""A minute this old gets no more endings: a transaction open this long would be cut anyway."""
RECOUNT_SECONDS = 3600.0
MAX_STEP_SERIES = 1000
"""Steps with generated names (send-{id}) must not explode Prometheus: the rest are dropped."""
OUTCOMES = ("completed", "failed", "cancelled", "timed_out")
D = duration_columns("d")
W = duration_columns("w")
RUN_SUMS = ["started", *OUTCOMES, "duration_sum", *D, "waited", "wait_sum", *W]
STEP_SUMS = ["completed", "failed", "retrying", "duration_sum", *D]

Totals = dict[tuple[str, ...], list[float]]


def _sum_rows(model: Any, keys: list[str], columns: list[str], where: Q) -> Totals:
    rows = (
        model.objects.filter(where)
        .values(*keys)
        .annotate(**{column: Sum(column) for column in columns})
        .order_by()
    )
    return {
        tuple(row[key] for key in keys): [float(row[column] or 0) for column in columns]
        for row in rows
    }


def _merge(into: Totals, more: Totals) -> Totals:
    merged = {key: list(values) for key, values in into.items()}
    for key, values in more.items():
        known = merged.setdefault(key, [0.0] * len(values))
        for index, value in enumerate(values):
            known[index] += value
    return merged


class RollupTotals:
    """Running totals of one rollup table since its first row, cheap to bring up to date."""

    def __init__(self, model: Any, keys: list[str], columns: list[str]) -> None:
        self.model, self.keys, self.columns = model, keys, columns
        self._lock = threading.Lock()
        self._settled: Totals = {}
        self._settled_until: datetime | None = None
        self._counted_at = 0.0

    def current(self, now: datetime) -> Totals:
        cutoff = (now - SETTLED_AFTER).replace(second=0, microsecond=0)
        with self._lock:
            if self._settled_until is None or time.monotonic() - self._counted_at > RECOUNT_SECONDS:
                self._settled = self._sum(Q(minute__lt=cutoff))
                self._counted_at = time.monotonic()
            elif cutoff > self._settled_until:
                newly = Q(minute__gte=self._settled_until, minute__lt=cutoff)
                self._settled = _merge(self._settled, self._sum(newly))
            self._settled_until = max(cutoff, self._settled_until or cutoff)
            settled, since = self._settled, self._settled_until
        return _merge(settled, self._sum(Q(minute__gte=since)))

    def _sum(self, where: Q) -> Totals:
        return _sum_rows(self.model, self.keys, self.columns, where)


class StepwiseCollector(Collector):
    """Reads the engine's state when Prometheus scrapes."""

    def __init__(self) -> None:
        self.runs = RollupTotals(RunRollup, ["workflow"], RUN_SUMS)
        self.steps = RollupTotals(StepRollup, ["workflow", "step"], STEP_SUMS)

    def collect(self) -> Iterator[Metric]:
        now = timezone.now()
        yield from self._runs(now)
        yield from self._steps(now)
        yield from self._now(now)

    def _runs(self, now: datetime) -> Iterator[Metric]:
        totals = self.runs.current(now)
        started = CounterMetricFamily(
            "stepwise_runs_started", "Runs created, by workflow.", labels=["workflow"]
        )
        ended = CounterMetricFamily(
            "stepwise_runs_ended",
            "Run endings by workflow and status (a retried run that ends again counts again).",
            labels=["workflow", "status"],
        )
        durations = HistogramMetricFamily(
            "stepwise_run_duration_seconds",
            "Run durations, first start to end.",
            labels=["workflow"],
        )
        waits = HistogramMetricFamily(
            "stepwise_run_queue_wait_seconds",
            "Creation (or scheduled time) until a worker first picked the run up.",
            labels=["workflow"],
        )
        for (workflow,), values in sorted(totals.items()):
            row = dict(zip(RUN_SUMS, values, strict=True))
            started.add_metric([workflow], row["started"])
            for status in OUTCOMES:
                ended.add_metric([workflow, status], row[status])
            _histogram(durations, [workflow], row, D, row["duration_sum"])
            _histogram(waits, [workflow], row, W, row["wait_sum"])
        yield from (started, ended, durations, waits)

    def _steps(self, now: datetime) -> Iterator[Metric]:
        totals = self.steps.current(now)
        attempts = CounterMetricFamily(
            "stepwise_step_attempts",
            "Step attempts by outcome (retrying: failed, to be retried).",
            labels=["workflow", "step", "outcome"],
        )
        durations = HistogramMetricFamily(
            "stepwise_step_duration_seconds",
            "Durations of step attempts.",
            labels=["workflow", "step"],
        )
        for (workflow, step), values in sorted(totals.items())[:MAX_STEP_SERIES]:
            row = dict(zip(STEP_SUMS, values, strict=True))
            for outcome in ("completed", "failed", "retrying"):
                attempts.add_metric([workflow, step, outcome], row[outcome])
            _histogram(durations, [workflow, step], row, D, row["duration_sum"])
        yield from (attempts, durations)

    def _now(self, now: datetime) -> Iterator[Metric]:
        active = GaugeMetricFamily(
            "stepwise_runs_active", "Runs that have not ended, by status.", labels=["status"]
        )
        counts = dict(
            Run.objects.filter(status__in=ACTIVE_STATUSES)
            .values_list("status")
            .annotate(n=Count("pk"))
            .order_by()
        )
        for status in sorted(ACTIVE_STATUSES):
            active.add_metric([str(status)], counts.get(status, 0))
        yield active

        tasks = HumanTask.objects.filter(status=TaskStatus.OPEN).aggregate(
            open=Count("pk"), overdue=Count("pk", filter=Q(due_at__lt=now))
        )
        yield GaugeMetricFamily(
            "stepwise_human_tasks_open", "Open approval and review tasks.", value=tasks["open"]
        )
        yield GaugeMetricFamily(
            "stepwise_human_tasks_overdue",
            "Open tasks past their due time.",
            value=tasks["overdue"],
        )

        oldest = Timer.objects.filter(due_at__lte=now).aggregate(oldest=Min("due_at"))["oldest"]
        yield GaugeMetricFamily(
            "stepwise_timer_lag_seconds",
            "How long the oldest due timer has waited to fire (0 when none is due).",
            value=(now - oldest).total_seconds() if oldest else 0.0,
        )

        beats = GaugeMetricFamily(
            "stepwise_process_heartbeat_age_seconds",
            "Seconds since each worker's or timer loop's last heartbeat (seen in the last day).",
            labels=["kind", "name"],
        )
        recent = ProcessHeartbeat.objects.filter(last_seen__gte=now - timedelta(days=1))
        alive = 0
        for kind, name, last_seen in recent.values_list("kind", "name", "last_seen")[:500]:
            age = max(0.0, (now - last_seen).total_seconds())
            beats.add_metric([kind, name], age)
            alive += kind == "worker" and age <= settings.STEPWISE_STALE_AFTER_SECONDS
        yield beats
        yield GaugeMetricFamily(
            "stepwise_workers_alive", "Workers with a fresh heartbeat.", value=alive
        )


def _histogram(
    family: HistogramMetricFamily,
    labels: list[str],
    row: dict[str, float],
    columns: list[str],
    total: float,
) -> None:
    pairs = cumulative([int(row[column]) for column in columns])
    buckets = [("+Inf" if math.isinf(bound) else f"{bound:g}", count) for bound, count in pairs]
    family.add_metric(labels, buckets, total)


registry = CollectorRegistry(auto_describe=False)
registry.register(StepwiseCollector())
