"""What the run page shows: a run, its journal laid out on a timeline, metrics and relations."""

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Count, OuterRef, Prefetch, Subquery, Sum
from django.db.models.fields.json import KeyTransform
from django.utils import timezone

from engine.core.definitions import get_workflow
from engine.graph.resolver import version_number
from engine.models import (
    GraphVersion,
    HumanTask,
    Run,
    RunMetric,
    ScheduleFire,
    StepRecord,
    TaskEvent,
)
from engine.runtime.masking import NO_MASK, Mask, shown_run, shown_step
from engine.runtime.runs import RETRYABLE_STATUSES
from monitoring.durations import format_duration
from monitoring.timeline import error_message

# The page re-renders whenever a moving run changes: a loop of thousands of steps must not make
# each refresh fetch and draw them all. The newest rows matter most to someone on call, and the
# timeline above the folded journal table shows every row.
MAX_STEP_ROWS = 100
# Inputs and outputs can be large documents; the API serves them whole.
MAX_JSON_CHARS = 50_000
# A step shorter than this share of the run still gets a visible sliver on the timeline.
MIN_BAR_PERCENT = 1.0


def pretty_json(value: Any) -> str:
    text = json.dumps(value, indent=2, ensure_ascii=False, default=str)
    if len(text) > MAX_JSON_CHARS:
        return text[:MAX_JSON_CHARS] + "\n… (cut here; GET /api/runs/<id> has all of it)"
    return text


@dataclass(frozen=True)
class StepRow:
    """One attempt of one journal position, placed on the run's timeline."""

    record: StepRecord
    duration: str
    # Percentages of the run's span, as strings with a dot: SVG attributes, never localised.
    bar_x: str
    bar_width: str
    open: bool
    # Still marked waiting (or in flight) although the run ended: cancelled or timed out there.
    interrupted: bool
    undoes: str = ""
    """For a compensation: the name of the step it undid."""
    redone: bool = False
    """A step a compensation undid before, done again by a retry."""

    @property
    def error_message(self) -> str:
        """For people: the message first, the exception class after it."""
        return error_message(self.record.error)


@dataclass(frozen=True)
class MetricRow:
    name: str
    latest: float
    total: float
    reports: int


@dataclass(frozen=True)
class RunDetail:
    run: Run
    title: str
    started_by: str
    duration: str
    steps: list[StepRow]
    hidden_steps: int
    span: str
    metrics: list[MetricRow]
    children: list[Run]
    progress_percent: str | None
    tasks: list[HumanTask]
    """The people the run asked, each task with its history (the audit trail)."""
    mask: Mask = NO_MASK
    """How `run` and `steps` were masked; anything else the page shows from the run uses it."""

    @property
    def input_json(self) -> str:
        return pretty_json(self.run.input)

    @property
    def output_json(self) -> str:
        return pretty_json(self.run.output)

    @property
    def error_json(self) -> str:
        return pretty_json(self.run.error)

    @property
    def can_be_cancelled(self) -> bool:
        return not self.run.is_terminal

    @property
    def can_be_retried(self) -> bool:
        # The same rule as engine.runtime.runs.retry_run, which has the last word.
        return self.run.status in RETRYABLE_STATUSES


def workflow_title(run: Run) -> str:
    """The title of the definition the run is pinned to, or "" when it is gone."""
    if run.kind == "graph":
        number = version_number(run.version)
        if number is None:
            return ""
        found = GraphVersion.objects.filter(workflow=run.workflow, number=number).first()
        return found.title if found is not None else ""
    definition = get_workflow(run.workflow)
    return definition.title if definition is not None else ""


def _started_by(run: Run) -> str:
    if run.created_by is not None:
        return run.created_by.get_username()
    fire = ScheduleFire.that_started(run)
    if fire is not None:
        return f"schedule “{fire.schedule.name}”"
    return ""


def _percent(value: float) -> str:
    return f"{min(max(value, 0.0), 100.0):.2f}"


def _steps(run: Run, start: datetime, end: datetime, mask: Mask) -> tuple[list[StepRow], int]:
    newest_first = list(
        StepRecord.objects.filter(run=run)
        .defer("output", "detail")
        # Only a compensation's link to the step it undid, not the whole detail (branch args).
        .annotate(undoes_link=KeyTransform("undoes", "detail"))
        .order_by("-id")[: MAX_STEP_ROWS + 1]
    )
    hidden = 0
    if len(newest_first) > MAX_STEP_ROWS:
        newest_first = newest_first[:MAX_STEP_ROWS]
        hidden = StepRecord.objects.filter(run=run).count() - MAX_STEP_ROWS
    span = max((end - start).total_seconds(), 0.001)
    names = {(record.seq, record.branch): mask.text(record.name) for record in newest_first}
    redo = run.redo if isinstance(run.redo, dict) else {}
    rows = []
    for record in reversed(newest_first):
        finished = record.finished_at
        is_open = finished is None and not run.is_terminal
        bar_end = finished or end
        offset = (record.started_at - start).total_seconds() / span * 100
        width = max((bar_end - record.started_at).total_seconds() / span * 100, MIN_BAR_PERCENT)
        rows.append(
            StepRow(
                record=shown_step(record, mask),
                duration=format_duration(finished - record.started_at if finished else None),
                bar_x=_percent(min(offset, 100 - MIN_BAR_PERCENT)),
                bar_width=_percent(min(width, 100 - max(offset, 0.0))),
                open=is_open,
                interrupted=finished is None and run.is_terminal,
                undoes=_undone_name(getattr(record, "undoes_link", None), names),
                redone=not record.superseded
                and record.kind == "step"
                and f"{record.seq}.{record.branch}" in redo,
            )
        )
    return rows, hidden


def _undone_name(link: Any, names: dict[tuple[int, int], str]) -> str:
    """The name of the step a compensation undid, from its journaled link."""
    if not isinstance(link, dict) or not isinstance(link.get("seq"), int):
        return ""
    position = (link["seq"], int(link.get("branch") or 0))
    return names.get(position, f"position {link['seq']}")


def _metrics(run: Run) -> list[MetricRow]:
    latest = (
        RunMetric.objects.filter(run=run, name=OuterRef("name"))
        .order_by("-recorded_at", "-id")
        .values("value")[:1]
    )
    rows = (
        RunMetric.objects.filter(run=run)
        .values("name")
        .annotate(reports=Count("id"), total=Sum("value"), latest=Subquery(latest))
        .order_by("name")
    )
    return [MetricRow(row["name"], row["latest"], row["total"], row["reports"]) for row in rows]


def _progress_percent(progress: Any) -> str | None:
    if not isinstance(progress, dict):
        return None
    current, total = progress.get("current"), progress.get("total")
    if not isinstance(current, int | float) or not isinstance(total, int | float) or total <= 0:
        return None
    return _percent(current / total * 100)


def run_detail(
    run_id: int, mask_of: Callable[[Run], Mask] = lambda run: NO_MASK
) -> RunDetail | None:
    """Everything the run page shows, its data as `mask_of(run)` shows it, or None when there
    is no such run."""
    found = Run.objects.select_related("created_by", "parent").filter(pk=run_id).first()
    if found is None:
        return None
    mask = mask_of(found)
    run = shown_run(found, mask)
    now = timezone.now()
    start = run.started_at or run.created_at
    end = run.finished_at or (now if not run.is_terminal else start)
    steps, hidden = _steps(run, start, end, mask)
    children = list(Run.objects.filter(parent=run).only("id", "workflow", "status").order_by("id"))
    return RunDetail(
        run=run,
        title=workflow_title(run),
        started_by=_started_by(run),
        duration=format_duration(end - start) if run.started_at else "",
        steps=steps,
        hidden_steps=hidden,
        span=format_duration(end - start),
        metrics=_metrics(run),
        children=children,
        progress_percent=_progress_percent(run.progress),
        mask=mask,
        tasks=list(
            HumanTask.objects.filter(run=run)
            .order_by("created_at", "pk")
            .prefetch_related(
                Prefetch(
                    "history",
                    queryset=TaskEvent.objects.select_related("actor", "on_behalf_of"),
                )
            )
        ),
    )
