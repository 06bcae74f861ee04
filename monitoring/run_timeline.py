"""Reading a run's timeline, its verdict and one step's details from the database."""

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from django.db import connection
from django.db.models import Case, F, JSONField, Prefetch, Value, When
from django.utils import timezone

from engine.core.values import cut_json
from engine.models import HumanTask, Run, StepRecord
from engine.runtime.masking import NO_MASK, Mask, shown_step
from engine.runtime.step_input import INPUT_KEY
from engine.runtime.step_logs import lines_of
from monitoring.folded_timeline import FoldedSummary, summarise
from monitoring.journal_positions import JournalPositions, ReadRow
from monitoring.timeline import (
    ENTRY_FIELDS,
    JournalEntry,
    Timeline,
    build_timeline,
    error_message,
)
from monitoring.timeline_groups import FOLD_ABOVE, fold, items_page
from monitoring.verdict import verdict

# A runaway loop can journal hundreds of thousands of rows: the chart shows the first ones and
# says how many more there are (GET /api/runs/<id> has them all).
MAX_TIMELINE_RECORDS = 20_000
# A step's input or output larger than this is shown cut, with a note.
MAX_VALUE_BYTES = 100_000


@dataclass(frozen=True)
class RunTimeline:
    timeline: Timeline
    verdict: str
    truncated: int
    """Journal rows beyond MAX_TIMELINE_RECORDS, left out."""
    summary: FoldedSummary | None = None
    """The folded answer when only the rows outside folds were read (load_folded_timeline):
    then `timeline` holds those and a few of each fold's rows, and answers only folded."""
    status: str = ""
    """The run's status, which the verdict speaks for (the page colours the verdict by it)."""

    def as_json(self, *, folded: bool = False) -> dict[str, Any]:
        """Every row, or (`folded`) a loop's items and a big parallel group's branches as one
        row each (monitoring.timeline_groups)."""
        if self.summary is not None:
            if not folded:
                raise ValueError("a timeline read folded has no unfolded answer")
            body = self.summary.as_json()
        else:
            body = fold(self.timeline).as_json() if folded else self.timeline.as_json()
        return {**body, "verdict": self.verdict, "truncated": self.truncated}

    def answer(self, mask: Mask, *, folded: bool) -> dict[str, Any]:
        """GET /api/runs/<id>/timeline's answer as `mask` shows it."""
        # Labels and errors may quote sensitive input; the chart's numbers are timings, kept.
        shown = mask.value(self.as_json(folded=folded), numbers=False)
        # Tells a page its "***" are masks, to say so in words. The status is no data: a
        # sensitive input that happens to read "failed" must not mask it.
        return {**shown, "status": self.status, "masked": mask.masks_anything}

    def items_json(
        self, group: str, *, offset: int, limit: int, status: str | None
    ) -> dict[str, Any] | None:
        """One page of a folded group's items as timeline rows (times after the same `t0`),
        or None when the timeline folds no such group."""
        found = fold(self.timeline).groups.get(group)
        if found is None:
            return None
        page = items_page(found, offset=offset, limit=limit, status=status)
        return {
            "group": group,
            "t0": self.timeline.as_json_head()["t0"],
            "items": len(found.rows),
            "total": page.total,
            "offset": offset,
            "limit": limit,
            "status": status,
            "rows": [self.timeline.row_json(row) for row in page.rows],
        }


def node_of(step_name: str) -> str:
    """The canvas node a journal name belongs to: `send[3]` and `ask:wait` belong to `send`
    and `ask` (the same rule as the canvas's run overlay, static/canvas/src/runs.ts)."""
    base = step_name.split(":", 1)[0]
    return base.split("[", 1)[0] if "[" in base else base


def task_waits(run: Run, task_rows: list[int] | None = None) -> dict[int, str]:
    """For each journal row waiting on a person: "approval by vp" (users, else groups).
    `task_rows`: those rows' ids when known (no query at all when there are none)."""
    if task_rows is not None and not task_rows:
        return {}
    tasks = HumanTask.objects.filter(run=run).prefetch_related(
        Prefetch("assignees"), Prefetch("assigned_groups")
    )
    by_task: dict[int, str] = {}
    for task in tasks:
        people = [user.get_username() for user in task.assignees.all()]
        people += [f"group {group.name}" for group in task.assigned_groups.all()]
        who = f" by {', '.join(people)}" if people else ""
        by_task[task.pk] = f"{task.get_kind_display().lower()}{who}"
    waits: dict[int, str] = {}
    rows = StepRecord.objects.filter(run=run, kind="task")
    if task_rows is not None:
        rows = rows.filter(pk__in=task_rows)
    for pk, detail in rows.values_list("pk", "detail"):
        task_id = detail.get("task") if isinstance(detail, dict) else None
        if task_id in by_task:
            waits[pk] = by_task[task_id]
    return waits


def load_timeline(
    run: Run, *, show_internal: bool = False, now: datetime | None = None
) -> RunTimeline:
    now = now or timezone.now()
    # Outputs can be large and a branch's detail holds its arguments: left for the panel,
    # except the few rows whose wait label needs their detail.
    columns = ["light_detail" if name == "detail" else name for name in ENTRY_FIELDS]
    rows = (
        StepRecord.objects.filter(run=run)
        .annotate(
            light_detail=Case(
                When(kind__in=("wait", "parallel"), then=F("detail")),
                default=Value(None, output_field=JSONField()),
            )
        )
        .order_by("seq", "branch", "attempt", "id")
        .values_list(*columns)[:MAX_TIMELINE_RECORDS]
    )
    with _no_cycle_collection():
        records = [JournalEntry(*values) for values in rows]
    truncated = 0
    if len(records) == MAX_TIMELINE_RECORDS:
        truncated = StepRecord.objects.filter(run=run).count() - MAX_TIMELINE_RECORDS
    waits = task_waits(run, [r.pk for r in records if r.kind == "task"])
    with _no_cycle_collection():
        timeline = build_timeline(
            records,
            run_start=run.started_at or run.created_at,
            now=now,
            run_end=_run_end(run),
            waits=waits,
            show_internal=show_internal,
            stops=run_stops(run),
        )
    return RunTimeline(timeline, _verdict(run, timeline, now), truncated, status=run.status)


def _verdict(run: Run, timeline: Timeline, now: datetime) -> str:
    return verdict(
        status=run.status,
        created_at=run.created_at,
        started_at=run.started_at,
        finished_at=run.finished_at,
        now=now,
        run_error=error_message(run.error),
        timeline=timeline,
    )


def _positions(run: Run, *, show_internal: bool, now: datetime) -> JournalPositions:
    return JournalPositions(
        run.pk,
        run_start=run.started_at or run.created_at,
        horizon=_run_end(run) or now,
        run_end=_run_end(run),
        stops=run_stops(run),
        show_internal=show_internal,
        # The map groups a graph's rows by canvas node, a code workflow's by step name.
        by_node=run.kind == "graph",
        fold_above=FOLD_ABOVE,
    )


def _positions_in_sql() -> bool:
    """Folds are summed up in PostgreSQL's SQL (arrays, FILTER, json_agg); on the embedded
    SQLite every row is laid out and folded in Python, which answers the same."""
    return connection.vendor == "postgresql"


def _run_end(run: Run) -> datetime | None:
    return run.finished_at if run.is_terminal else None


def run_stops(run: Run) -> list[tuple[datetime, datetime]]:
    """When the run ended and when it was retried, each time (Run.stops), oldest first."""
    stops = run.stops if isinstance(run.stops, list) else []
    return [
        (datetime.fromisoformat(stop["ended"]), datetime.fromisoformat(stop["retried"]))
        for stop in stops
        if isinstance(stop, dict) and "ended" in stop and "retried" in stop
    ]


def _lay_out(run: Run, read: list[ReadRow], *, show_internal: bool, now: datetime) -> Timeline:
    records = [JournalEntry(*row.values) for row in read]
    hints = {row.values[0]: (row.lane_free, row.dispatched_at) for row in read}
    waits = task_waits(run, [r.pk for r in records if r.kind == "task"])
    return build_timeline(
        records,
        run_start=run.started_at or run.created_at,
        now=now,
        run_end=_run_end(run),
        waits=waits,
        show_internal=show_internal,
        hints=hints,
        stops=run_stops(run),
    )


def load_folded_timeline(
    run: Run, *, show_internal: bool = False, now: datetime | None = None
) -> RunTimeline:
    """The timeline to answer folded, read at a cost that does not grow with a fan-out: each
    fold summed up in SQL, the rows outside folds read, and of each fold only the few rows the
    verdict and the map could pick (its first failure, its longest, its open ones)."""
    now = now or timezone.now()
    if not _positions_in_sql():
        return load_timeline(run, show_internal=show_internal, now=now)
    found = _positions(run, show_internal=show_internal, now=now).folded_read()
    # A journal longer than the chart shows is laid out as far as it goes (and says so); one
    # with no row to show has nothing to fold.
    if found is None or found.records > MAX_TIMELINE_RECORDS:
        return load_timeline(run, show_internal=show_internal, now=now)
    laid_out = _lay_out(run, found.rows, show_internal=show_internal, now=now)
    timeline = replace(laid_out, hidden_internal=found.hidden)
    summary = summarise(timeline, found.parts)
    return RunTimeline(timeline, _verdict(run, timeline, now), 0, summary, status=run.status)


def load_items(
    run: Run,
    group: str,
    *,
    offset: int,
    limit: int,
    status: str | None,
    show_internal: bool = False,
) -> dict[str, Any] | None:
    """One page of a folded group's items (RunTimeline.items_json), reading only them."""
    now = timezone.now()
    if not _positions_in_sql() or StepRecord.objects.filter(run=run).count() > MAX_TIMELINE_RECORDS:
        return load_timeline(run, show_internal=show_internal, now=now).items_json(
            group, offset=offset, limit=limit, status=status
        )
    positions = _positions(run, show_internal=show_internal, now=now)
    found = positions.items(group, offset=offset, limit=limit, status=status)
    if found is None:
        return None
    size, total, page = found
    rows = (
        _lay_out(run, positions.read(page), show_internal=show_internal, now=now) if page else None
    )
    return {
        "group": group,
        "t0": round((run.started_at or run.created_at).timestamp() * 1000),
        "items": size,
        "total": total,
        "offset": offset,
        "limit": limit,
        "status": status,
        "rows": [rows.row_json(row) for row in rows.rows] if rows is not None else [],
    }


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Pauses the cyclic garbage collector while a fanned-out run's rows are made: tens of
    thousands of objects without a cycle among them, during which it walked the whole heap
    again and again (more than half of a 10,000-item loop's timeline). Only the caller that
    paused it resumes it, so threads that overlap never leave it off."""
    paused = gc.isenabled()
    if paused:
        gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


def _bounded(value: Any) -> Any:
    """The value itself, or its text cut to MAX_VALUE_BYTES with a note when it is huge."""
    return cut_json(value, MAX_VALUE_BYTES, "the API has all")


def step_logs(record: StepRecord) -> list[Any]:
    """The lines a step attempt wrote with log() (kept on its journal row), as people read
    them: "09:14:02 warning card declined"."""
    return [_log_text(entry) for entry in lines_of(record)]


def _log_text(entry: Any) -> str:
    if not isinstance(entry, dict):
        return str(entry)
    at = str(entry.get("at", ""))
    clock = at[11:19] if len(at) >= 19 else at
    return " ".join(
        part for part in (clock, str(entry.get("level", "")), str(entry.get("message", ""))) if part
    )


def _step_input(record: StepRecord) -> tuple[bool, Any]:
    """Whether the journal kept the attempt's input, and the input: what the attempt noted (a
    node's rendered config, a step's arguments; engine.runtime.step_input), else a parallel
    step's arguments as dispatched, a wait's filter."""
    detail = record.detail if isinstance(record.detail, dict) else {}
    if INPUT_KEY in detail:
        return True, detail[INPUT_KEY]
    if "args" in detail or "kwargs" in detail:
        return True, {"args": detail.get("args", []), "kwargs": detail.get("kwargs", {})}
    if record.kind == "wait":
        return True, {key: detail.get(key) for key in ("event_types", "match", "filter")}
    return False, None


def _attempt_input(record: StepRecord) -> dict[str, Any]:
    kept, value = _step_input(record)
    return {"input_kept": kept, "input": _bounded(value)}


def step_detail(run: Run, step_id: int, mask: Mask = NO_MASK) -> dict[str, Any] | None:
    """One journal position (the position of row `step_id`) with every attempt, for the side
    panel of the run page and of the canvas's run overlay, its data as `mask` shows it. None
    when the run has no such row."""
    found = (
        StepRecord.objects.filter(run=run, pk=step_id).only("seq", "branch", "superseded").first()
    )
    if found is None:
        return None
    attempts = [
        shown_step(record, mask)
        for record in StepRecord.objects.filter(
            run=run, seq=found.seq, branch=found.branch, superseded=found.superseded
        ).order_by("attempt", "id")
    ]
    last = attempts[-1]
    # The newest attempt's input: a node renders its config again on each attempt.
    kept, value = _step_input(last)
    waits = task_waits(run, [last.pk]) if last.kind == "task" else {}
    return {
        "id": last.pk,
        "run": run.pk,
        "seq": last.seq,
        "branch": last.branch,
        "name": last.name,
        "node": node_of(last.name),
        "kind": last.kind,
        "status": last.status,
        "superseded": last.superseded,
        "child_run": last.child_run_id,
        "waiting_for": waits.get(last.pk, ""),
        "input_kept": kept,
        # Sensitive input values in this step show as MASK ("***"): pages say so in words.
        "masked": mask.masks_anything,
        "input": _bounded(value),
        "output": _bounded(last.output),
        "error": _error_for_people(last.error, last.detail),
        "attempts": [
            {
                "id": record.pk,
                "attempt": record.attempt,
                "status": record.status,
                "started_at": record.started_at.isoformat(),
                "finished_at": record.finished_at.isoformat() if record.finished_at else None,
                "retry_at": record.retry_at.isoformat() if record.retry_at else None,
                "duration_ms": (record.finished_at - record.started_at).total_seconds() * 1000
                if record.finished_at
                else None,
                "error": _error_for_people(record.error, record.detail),
                "logs": step_logs(record),
                **_attempt_input(record),
            }
            for record in attempts
        ],
    }


def node_step_id(run: Run, node_id: str) -> int | None:
    """The newest journal row of a canvas node in this run (loop items and a node's own waits
    included), or None when the node did not run."""
    rows = (
        StepRecord.objects.filter(run=run, superseded=False)
        .exclude(kind="value")
        .filter(name__startswith=node_id)
        .order_by("-seq", "-branch", "-attempt")
        .values_list("pk", "name")
    )
    for pk, name in rows.iterator(chunk_size=500):
        if node_of(name) == node_id:
            return int(pk)
    return None


def _error_for_people(error: Any, detail: Any = None) -> dict[str, Any] | None:
    if not isinstance(error, dict):
        return None
    kept = detail.get("traceback") if isinstance(detail, dict) else None
    cause = error.get("cause") if isinstance(error.get("cause"), dict) else None
    inner = cause if error.get("type") == "StepFailed" and cause else error
    return {
        "message": str(inner.get("message") or ""),
        "type": str(inner.get("type") or ""),
        "traceback": str(inner.get("traceback") or error.get("traceback") or kept or ""),
        "raw": _bounded(error),
    }
