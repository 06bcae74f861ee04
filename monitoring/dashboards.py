"""What /dashboards/ shows for a period and, optionally, one workflow, read from the rollups.

Counts, throughput, failure rate and percentiles come from engine.models.rollups (sums of
per-minute counters, never a scan of runs); what is true only now (backlog, workers, open
tasks) comes from small indexed counts. Everything is plain JSON for the page's charts.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Count, Max, Min, Q, QuerySet, Sum
from django.db.models.functions import Trunc
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from engine.core.histograms import quantile
from engine.models import (
    FireOutcome,
    HumanTask,
    MetricRollup,
    ProcessHeartbeat,
    ProcessKind,
    Run,
    RunRollup,
    RunStatus,
    ScheduleFire,
    StepRollup,
    TaskStatus,
)
from engine.models.rollups import duration_columns
from engine.runtime.rollups import MINUTE_DETAIL

PERIODS = {"hour": timedelta(hours=1), "day": timedelta(days=1), "week": timedelta(days=7)}
LONGEST_CUSTOM = timedelta(days=92)
OUTCOMES = ("completed", "failed", "cancelled", "timed_out")
COUNTS = ("started", *OUTCOMES)
D = duration_columns("d")
W = duration_columns("w")
TOP_STEPS = 10
MAX_STEP_ROWS = 200
"""Steps with generated names (send-{id}) could be thousands: the table keeps the busiest."""
METRIC_NAMES = 8


class DashboardInputError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Period:
    start: datetime
    end: datetime
    name: str

    @property
    def length(self) -> timedelta:
        return self.end - self.start

    @property
    def previous(self) -> "Period":
        return Period(self.start - self.length, self.start, f"before {self.name}")

    @property
    def slot(self) -> str:
        """The chart's step: about 24 to 360 points whatever the period."""
        if self.length <= timedelta(hours=6):
            return "minute"
        if self.length <= timedelta(days=15):
            return "hour"
        return "day"


def parse_period(params: Any, now: datetime | None = None) -> Period:
    """The period asked for: `period` hour, day or week ending now, or `custom` with ISO
    `from` and `to` (at most 92 days apart)."""
    now = now or timezone.now()
    name = params.get("period") or "day"
    if name in PERIODS:
        end = now.replace(second=0, microsecond=0) + timedelta(minutes=1)
        return Period(end - PERIODS[name], end, name)
    if name != "custom":
        raise DashboardInputError("period", "must be hour, day, week or custom")
    start, end = _moment(params, "from"), _moment(params, "to")
    if end <= start:
        raise DashboardInputError("to", "must be after from")
    if end - start > LONGEST_CUSTOM:
        raise DashboardInputError("to", "a custom period is at most 92 days long")
    return Period(start, end, "custom")


def _moment(params: Any, field: str) -> datetime:
    text = (params.get(field) or "").strip()
    if not text:
        raise DashboardInputError(field, "is required for a custom period")
    try:
        moment = parse_datetime(text[:40])
    except ValueError:
        moment = None
    if moment is None:
        raise DashboardInputError(field, "must be a date and time like 2026-12-01T09:00")
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, UTC)
    return moment


def parse_workflow(params: Any) -> str | None:
    workflow = (params.get("workflow") or "").strip()
    if len(workflow) > 100:
        raise DashboardInputError("workflow", "is at most 100 characters")
    return workflow or None


def _rollups(
    model: type[RunRollup] | type[StepRollup], period: Period, workflow: str | None
) -> QuerySet[Any]:
    rows: QuerySet[Any] = model.objects.filter(minute__gte=period.start, minute__lt=period.end)
    return rows.filter(workflow=workflow) if workflow else rows


def _sums(names: tuple[str, ...] | list[str]) -> dict[str, Sum]:
    return {name: Sum(name) for name in names}


def _totals(period: Period, workflow: str | None) -> dict[str, int]:
    sums = _rollups(RunRollup, period, workflow).aggregate(**_sums(COUNTS))
    return {name: int(sums[name] or 0) for name in COUNTS}


def _change(now: int, before: int) -> float | None:
    return None if before == 0 else round((now - before) * 100.0 / before, 1)


def _percentiles(row: dict[str, Any], columns: list[str]) -> dict[str, float | None]:
    counts = [int(row.get(column) or 0) for column in columns]
    return {
        f"p{int(q * 100)}": None if (v := quantile(q, counts)) is None else round(v, 3)
        for q in (0.5, 0.95, 0.99)
    }


def chart_slot(period: Period, now: datetime) -> str:
    """The period's slot, but never minutes where the rollups have merged them into hours."""
    if period.slot == "minute" and period.start < now - MINUTE_DETAIL:
        return "hour"
    return period.slot


def _series(period: Period, workflow: str | None, slot_kind: str) -> dict[str, list[Any]]:
    slot = Trunc("minute", slot_kind, tzinfo=UTC)
    rows = (
        _rollups(RunRollup, period, workflow)
        .annotate(slot=slot)
        .values("slot")
        .annotate(**_sums(COUNTS))
        .order_by("slot")
    )
    series: dict[str, list[Any]] = {"t": [], **{name: [] for name in COUNTS}, "failure_rate": []}
    for row in rows:
        series["t"].append(int(row["slot"].timestamp()))
        for name in COUNTS:
            series[name].append(int(row[name] or 0))
        ended = sum(int(row[name] or 0) for name in OUTCOMES)
        bad = ended - int(row["completed"] or 0)
        series["failure_rate"].append(round(bad * 100.0 / ended, 1) if ended else None)
    return series


def _per_workflow(
    period: Period, workflow: str | None
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Durations per workflow, and the queue waits of them all: one pass over the rollups."""
    rows = (
        _rollups(RunRollup, period, workflow)
        .values("workflow")
        .annotate(**_sums(["duration_sum", *OUTCOMES, *D, "waited", "wait_sum", *W]))
        .order_by("workflow")
    )
    table = []
    waits: dict[str, Any] = dict.fromkeys(["waited", "wait_sum", *W], 0)
    for row in rows:
        count = sum(int(row[column] or 0) for column in D)
        table.append(
            {
                "workflow": row["workflow"],
                "ended": sum(int(row[name] or 0) for name in OUTCOMES),
                "failed": int(row["failed"] or 0),
                "mean": round(row["duration_sum"] / count, 3) if count else None,
                **_percentiles(row, D),
            }
        )
        for name in waits:
            waits[name] += row[name] or 0
    return table, waits


def _steps(period: Period, workflow: str | None) -> dict[str, Any]:
    rows = list(
        _rollups(StepRollup, period, workflow)
        .values("workflow", "step")
        .annotate(**_sums(["completed", "failed", "retrying", *D]), slowest=Max("slowest_seconds"))
    )
    table = []
    for row in rows:
        table.append(
            {
                "workflow": row["workflow"],
                "step": row["step"],
                "attempts": sum(
                    int(row[name] or 0) for name in ("completed", "failed", "retrying")
                ),
                "failed": int(row["failed"] or 0),
                "retrying": int(row["retrying"] or 0),
                "slowest": round(row["slowest"] or 0.0, 3),
                **_percentiles(row, D),
            }
        )
    slowest = sorted(table, key=lambda r: (-(r["p95"] or 0.0), r["workflow"], r["step"]))
    failing = sorted(
        (r for r in table if r["failed"] or r["retrying"]),
        key=lambda r: (-(r["failed"] + r["retrying"]), r["workflow"], r["step"]),
    )
    # Copies: a step can be among both, with a different example run in each.
    slowest = [dict(row) for row in slowest[:TOP_STEPS]]
    failing = [dict(row) for row in failing[:TOP_STEPS]]
    # An example run for each shown step: one small indexed query each, at most 20.
    for row in slowest:
        row["example_run"] = _example(period, row, "-slowest_seconds", "slowest_run")
    for row in failing:
        row["example_run"] = _example(period, row, "-minute", "failed_run")
    busiest = sorted(table, key=lambda r: -r["attempts"])[:MAX_STEP_ROWS]
    busiest.sort(key=lambda r: (r["workflow"], r["step"]))
    return {"all": busiest, "slowest": slowest, "failing": failing, "steps": len(table)}


def _example(period: Period, row: dict[str, Any], order: str, column: str) -> int | None:
    found = (
        _rollups(StepRollup, period, row["workflow"])
        .filter(step=row["step"])
        .exclude(**{f"{column}__isnull": True})
        .order_by(order)
        .values_list(column, flat=True)
        .first()
    )
    return int(found) if found is not None else None


def _queue(waits: dict[str, Any], workflow: str | None) -> dict[str, Any]:
    waited = int(waits["waited"])
    runs = Run.objects.filter(workflow=workflow) if workflow else Run.objects.all()
    return {
        "waited": waited,
        "mean": round(waits["wait_sum"] / waited, 3) if waited else None,
        **_percentiles(waits, W),
        "backlog": runs.filter(status=RunStatus.PENDING).count(),
        "scheduled": runs.filter(status=RunStatus.SCHEDULED).count(),
    }


def workers_now(now: datetime) -> dict[str, int]:
    """Workers with a fresh heartbeat, and how many processes hold a run's lease right now."""
    fresh = now - timedelta(seconds=settings.STEPWISE_STALE_AFTER_SECONDS)
    alive = ProcessHeartbeat.objects.filter(kind=ProcessKind.WORKER, last_seen__gte=fresh).count()
    # lease_owner is "host:pid:token": a process advancing several runs is one busy process.
    owners = Run.objects.filter(
        status__in=[RunStatus.RUNNING, RunStatus.CANCELLING], lease_until__gt=now
    ).values_list("lease_owner", flat=True)[:1000]
    busy = {owner.rsplit(":", 1)[0] for owner in owners if owner}
    return {"alive": alive, "busy": len(busy)}


def tasks_now(now: datetime) -> dict[str, int]:
    counts = HumanTask.objects.filter(status=TaskStatus.OPEN).aggregate(
        open=Count("pk"), overdue=Count("pk", filter=Q(due_at__lt=now))
    )
    return {"open": counts["open"], "overdue": counts["overdue"]}


def _schedules(period: Period, workflow: str | None) -> dict[str, int]:
    fires = ScheduleFire.objects.filter(fired_at__gte=period.start, fired_at__lt=period.end)
    if workflow:
        fires = fires.filter(schedule__workflow=workflow)
    counts = fires.aggregate(
        fired=Count("pk", filter=~Q(outcome=FireOutcome.MISSED)),
        missed=Count("pk", filter=Q(outcome=FireOutcome.MISSED)),
    )
    return {"fired": counts["fired"], "missed": counts["missed"]}


def metric_charts(period: Period, workflow: str | None, slot_kind: str) -> list[dict[str, Any]]:
    """What workflows recorded with metric(), from the metric rollups (never RunMetric rows):
    per chart slot the mean, min, max and count, for the busiest workflow and name pairs."""
    recorded = MetricRollup.objects.filter(minute__gte=period.start, minute__lt=period.end)
    if workflow:
        recorded = recorded.filter(workflow=workflow)
    names = list(
        recorded.values("workflow", "name")
        .annotate(n=Sum("count"))
        .order_by("-n", "workflow", "name")
        .values_list("workflow", "name")[:METRIC_NAMES]
    )
    if not names:
        return []
    # Every chart's slots in one grouped query over the chosen pairs.
    chosen = Q()
    for metric_workflow, name in names:
        chosen |= Q(workflow=metric_workflow, name=name)
    rows = (
        recorded.filter(chosen)
        .annotate(slot=Trunc("minute", slot_kind, tzinfo=UTC))
        .values("workflow", "name", "slot")
        .annotate(
            total=Sum("value_sum"), n=Sum("count"), low=Min("value_min"), high=Max("value_max")
        )
        .order_by("slot")
    )
    charts: dict[tuple[str, str], dict[str, Any]] = {
        (metric_workflow, name): {
            "workflow": metric_workflow,
            "name": name,
            **{series: [] for series in ("t", "mean", "min", "max", "count")},
        }
        for metric_workflow, name in names
    }
    for row in rows:
        chart = charts[row["workflow"], row["name"]]
        chart["t"].append(int(row["slot"].timestamp()))
        chart["mean"].append(round(row["total"] / row["n"], 4))
        chart["min"].append(row["low"])
        chart["max"].append(row["high"])
        chart["count"].append(int(row["n"]))
    return list(charts.values())


def known_workflows() -> list[str]:
    return list(
        RunRollup.objects.values_list("workflow", flat=True).distinct().order_by("workflow")[:500]
    )


def dashboard(period: Period, workflow: str | None) -> dict[str, Any]:
    """Everything /dashboards/ shows, as JSON."""
    now = timezone.now()
    slot = chart_slot(period, now)
    series = _series(period, workflow, slot)
    # The period's totals are its series' sums: no second pass over the rollups.
    totals = {name: sum(series[name]) for name in COUNTS}
    before = _totals(period.previous, workflow)
    durations, waits = _per_workflow(period, workflow)
    return {
        "period": {
            "name": period.name,
            "start": period.start.isoformat(),
            "end": period.end.isoformat(),
            "slot": slot,
        },
        "workflow": workflow,
        "totals": {
            name: {
                "value": totals[name],
                "previous": before[name],
                "change": _change(totals[name], before[name]),
            }
            for name in COUNTS
        },
        "series": series,
        "durations": durations,
        "steps": _steps(period, workflow),
        "queue": _queue(waits, workflow),
        "workers": workers_now(now),
        "tasks": tasks_now(now),
        "schedules": _schedules(period, workflow),
        "metrics": metric_charts(period, workflow, slot),
        "generated_at": now.isoformat(),
    }


def overview_summary(now: datetime | None = None) -> dict[str, Any]:
    """The Overview's compact dashboard: the last hour's runs against the hour before."""
    period = parse_period({"period": "hour"}, now)
    totals, before = _totals(period, None), _totals(period.previous, None)
    return {
        "totals": [
            {
                "name": name,
                "label": name.replace("_", " ").capitalize(),
                "value": totals[name],
                "change": _change(totals[name], before[name]),
            }
            for name in COUNTS
        ],
        "tasks": tasks_now(period.end),
        "backlog": Run.objects.filter(status=RunStatus.PENDING).count(),
    }
