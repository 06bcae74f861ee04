"""Retention: ended runs older than their workflow's retention are deleted with their journal;
the sweep also deletes lapsed resilience state (breakers' and rate-limit keys' rows).

The timer loop prunes in small batches, each its own short transaction, so that new runs never
wait behind a long delete (bench/retention.py measures it). A run is kept while a state
machine's task it opened is still open (the state owns that task, not the run). When asked,
each batch is written to JSON lines before it is deleted.
"""

import json
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from engine.models import TERMINAL_STATUSES, HumanTask, Run, StepRecord, TaskStatus
from engine.resilience.state import PRUNE_BATCH as STATE_BATCH
from engine.resilience.state import prune_lapsed_states

BATCH = 500


@dataclass(frozen=True)
class Retention:
    """Days an ended run is kept: a default and per-workflow overrides; 0 keeps for ever."""

    default_days: int
    overrides: Mapping[str, int]

    @classmethod
    def from_settings(cls) -> "Retention":
        return cls(
            int(getattr(settings, "STEPWISE_RETENTION_DAYS", 30)),
            parse_overrides(getattr(settings, "STEPWISE_RETENTION_OVERRIDES", [])),
        )

    def expired(self, now: datetime) -> Q:
        """Runs past their retention at `now` (whatever their status)."""
        condition = Q(pk__in=[])
        if self.default_days > 0:
            condition |= Q(finished_at__lt=now - timedelta(days=self.default_days)) & ~Q(
                workflow__in=list(self.overrides)
            )
        for workflow, days in self.overrides.items():
            if days > 0:
                condition |= Q(workflow=workflow, finished_at__lt=now - timedelta(days=days))
        return condition


def parse_overrides(rows: Any) -> dict[str, int]:
    """`["invoice-approval=365", "nightly-sync=7"]` → {workflow: days}; a bad row is an error
    naming it, at start-up rather than at the first prune."""
    overrides: dict[str, int] = {}
    for row in rows or ():
        workflow, _, days = str(row).partition("=")
        if not workflow.strip() or not days.strip().isdigit():
            raise ValueError(
                f"STEPWISE_RETENTION_OVERRIDES: {row!r} is not <workflow>=<days> (days >= 0)"
            )
        overrides[workflow.strip()] = int(days)
    return overrides


def prunable(retention: Retention, now: datetime) -> QuerySet[Run]:
    held = HumanTask.objects.filter(machine_instance__isnull=False, status=TaskStatus.OPEN).values(
        "run_id"
    )
    return (
        Run.objects.filter(status__in=TERMINAL_STATUSES, finished_at__isnull=False)
        .filter(retention.expired(now))
        .exclude(pk__in=held)
    )


def prune_batch(
    retention: Retention,
    now: datetime | None = None,
    *,
    batch: int = BATCH,
    export: IO[str] | None = None,
) -> int:
    """Delete one batch of expired runs (their steps, timers, waits, tasks and metrics go with
    them); with `export`, write each as a JSON line first. Returns how many were deleted."""
    moment = now or timezone.now()
    with transaction.atomic():
        # SKIP LOCKED: a run someone is retrying right now is left for the next batch.
        ids = list(
            prunable(retention, moment)
            .order_by("finished_at", "id")
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)[:batch]
        )
        if not ids:
            return 0
        if export is not None:
            for line in export_lines(ids):
                export.write(line)
            export.flush()
        Run.objects.filter(pk__in=ids).delete()
    return len(ids)


def export_lines(ids: list[int]) -> Iterator[str]:
    """One JSON object per run, with its journal in order."""
    steps: dict[int, list[dict[str, Any]]] = {}
    for step in StepRecord.objects.filter(run_id__in=ids).order_by("run_id", "seq", "branch", "id"):
        steps.setdefault(step.run_id, []).append(
            {
                "seq": step.seq,
                "branch": step.branch,
                "attempt": step.attempt,
                "kind": step.kind,
                "name": step.name,
                "status": step.status,
                "output": step.output,
                "error": step.error,
                "started_at": step.started_at,
                "finished_at": step.finished_at,
                "superseded": step.superseded,
            }
        )
    fields = (
        "id",
        "workflow",
        "kind",
        "version",
        "status",
        "input",
        "output",
        "error",
        "parent_id",
        "trigger",
        "trigger_ref",
        "created_by_id",
        "created_at",
        "started_at",
        "finished_at",
    )
    for run in Run.objects.filter(pk__in=ids).order_by("finished_at", "id").values(*fields):
        yield json.dumps({**run, "steps": steps.get(run["id"], [])}, cls=DjangoJSONEncoder) + "\n"


class RetentionSweeper:
    """For the timer loop: a batch of runs and one of lapsed resilience state at a time, at once
    again while batches come back full, otherwise after STEPWISE_RETENTION_SWEEP_SECONDS."""

    def __init__(self) -> None:
        self.next_at = 0.0

    def __call__(self) -> int:
        if time.monotonic() < self.next_at:
            return 0
        retention = Retention.from_settings()
        export_dir = getattr(settings, "STEPWISE_RETENTION_EXPORT_DIR", "")
        if export_dir:
            path = Path(export_dir) / f"runs-{timezone.now():%Y-%m-%d}.jsonl"
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("a", encoding="utf-8") as export:
                pruned = prune_batch(retention, export=export)
        else:
            pruned = prune_batch(retention)
        # Per-key rate-limit rows pile up with the keys seen (one per customer) unless removed.
        states = prune_lapsed_states()
        if pruned < BATCH and states < STATE_BATCH:
            self.next_at = time.monotonic() + float(
                getattr(settings, "STEPWISE_RETENTION_SWEEP_SECONDS", 300.0)
            )
        return pruned + states
