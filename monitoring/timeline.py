"""A run's journal as a Gantt chart: one row per journal position, one bar per attempt, each
bar split into the spans that explain where the time went.

Plain Python over journal rows (StepRecord instances, saved or not): no request, no query.

- queued: from when the attempt could start (the previous position ended, its back-off ran out,
  or its parallel group dispatched it) until a worker started it;
- running: a step doing its work;
- backoff: a failed attempt waiting for its next one (StepRecord.retry_at);
- waiting: a timer, an event, a person or a child run; `label` says which.

A run that ended leaves nothing open: what it was still doing or waiting for (a back-off
whose next attempt never came included) stops at its end. A run that was retried stood stopped
from that end until the retry (Run.stops): that time is no span at all. The rows it had open
then stop at that end, and the first attempt after the retry queues from the retry, not from
the position before it.

Internal rows (journaled values such as "now" or a loop's "next") are hidden unless asked for:
they explain replay, not time.
"""

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

SegmentKind = Literal["queued", "running", "backoff", "waiting"]
INTERNAL_KINDS = frozenset({"value"})
WAITING_KINDS = frozenset({"sleep", "wait", "task", "child_result", "parallel"})
# A gap this short between "could start" and "started" is bookkeeping, not queueing.
MIN_QUEUED_SECONDS = 0.001


class JournalRow(Protocol):
    """What the timeline reads of a journal row: a StepRecord, or a lighter JournalEntry."""

    @property
    def pk(self) -> Any: ...
    @property
    def seq(self) -> int: ...
    @property
    def branch(self) -> int: ...
    @property
    def attempt(self) -> int: ...
    @property
    def kind(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def error(self) -> Any: ...
    @property
    def detail(self) -> Any: ...
    @property
    def child_run_id(self) -> int | None: ...
    @property
    def started_at(self) -> datetime: ...
    @property
    def finished_at(self) -> datetime | None: ...
    @property
    def retry_at(self) -> datetime | None: ...
    @property
    def wake_at(self) -> datetime | None: ...
    @property
    def superseded(self) -> bool: ...


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """A journal row read as plain values: thousands of them build much faster than models."""

    pk: int
    seq: int
    branch: int
    attempt: int
    kind: str
    name: str
    status: str
    error: Any
    detail: Any
    child_run_id: int | None
    started_at: datetime
    finished_at: datetime | None
    retry_at: datetime | None
    wake_at: datetime | None
    superseded: bool


ENTRY_FIELDS = tuple(JournalEntry.__dataclass_fields__)


@dataclass(frozen=True)
class Segment:
    kind: SegmentKind
    start: datetime
    end: datetime
    open: bool = False
    """Still going on now (its end is the time the timeline was built)."""
    label: str = ""


@dataclass(frozen=True)
class Attempt:
    """One journal row: one attempt at one position."""

    id: int
    attempt: int
    status: str
    segments: tuple[Segment, ...]
    error_message: str = ""


@dataclass
class Row:
    """One position of the journal (seq, branch) with its attempts, oldest first."""

    seq: int
    branch: int
    name: str
    kind: str
    internal: bool
    superseded: bool
    child_run_id: int | None = None
    attempts: list[Attempt] = field(default_factory=list)

    @property
    def status(self) -> str:
        return self.attempts[-1].status if self.attempts else ""

    @property
    def start(self) -> datetime:
        return self.attempts[0].segments[0].start

    @property
    def end(self) -> datetime:
        return self.attempts[-1].segments[-1].end


@dataclass(frozen=True)
class Timeline:
    start: datetime
    end: datetime
    rows: list[Row]
    hidden_internal: int
    """Internal rows left out (0 when they are shown)."""

    def as_json(self) -> dict[str, Any]:
        """Compact for thousands of rows: times are milliseconds after `t0` (epoch ms); a
        segment is [kind, start, end] or [kind, start, end, label, open]; `internal`,
        `superseded`, `child` and an attempt's `error` appear only when set."""
        return {**self.as_json_head(), "rows": [self.row_json(row) for row in self.rows]}

    def as_json_head(self) -> dict[str, Any]:
        return {
            "t0": round(self.start.timestamp() * 1000),
            "span": self.ms(self.end),
            "hidden_internal": self.hidden_internal,
        }

    def ms(self, moment: datetime) -> int:
        """`moment` in milliseconds after the timeline's start."""
        return round((moment - self.start).total_seconds() * 1000)

    def row_json(self, row: Row) -> dict[str, Any]:
        def segment(s: Segment) -> list[Any]:
            out: list[Any] = [s.kind, self.ms(s.start), self.ms(s.end)]
            if s.label or s.open:
                out += [s.label, s.open]
            return out

        item: dict[str, Any] = {
            "seq": row.seq,
            "branch": row.branch,
            "name": row.name,
            "kind": row.kind,
            "status": row.status,
            "attempts": [
                {
                    "id": attempt.id,
                    "n": attempt.attempt,
                    "status": attempt.status,
                    "segments": [segment(s) for s in attempt.segments],
                    # Left out when empty: thousands of rows stay small.
                    **({"error": attempt.error_message} if attempt.error_message else {}),
                }
                for attempt in row.attempts
            ],
        }
        if row.internal:
            item["internal"] = True
        if row.superseded:
            item["superseded"] = True
        if row.child_run_id is not None:
            item["child"] = row.child_run_id
        return item


def error_message(error: Any) -> str:
    """The error for people: the message first, the exception class after it."""
    if not isinstance(error, dict):
        return ""
    cause = error.get("cause")
    if error.get("type") == "StepFailed" and isinstance(cause, dict):
        return error_message(cause)  # the step's own error says more than the wrapper
    kind, message = str(error.get("type") or ""), str(error.get("message") or "")
    short_kind = kind.rsplit(".", 1)[-1]
    if message and short_kind:
        return f"{message} ({short_kind})"
    return message or short_kind


def build_timeline(
    records: Iterable[JournalRow],
    *,
    run_start: datetime,
    now: datetime,
    run_end: datetime | None = None,
    waits: Mapping[int, str] | None = None,
    show_internal: bool = False,
    hints: Mapping[int, tuple[datetime, datetime | None]] | None = None,
    stops: Sequence[tuple[datetime, datetime]] = (),
) -> Timeline:
    """Lay out journal rows. `waits` maps a row's id to what it waits for ("approval by vp");
    `run_end` is when an ended run ended: what it left open stops there. `hints`, for rows
    laid out without some of those before them, maps a row's id to when the run's lane was
    free before it and when its parallel group dispatched it. `stops`: when the run ended and
    when it was retried, each time, oldest first."""
    waits = waits or {}
    hints = hints or {}
    horizon = run_end or now
    stop_ends = [ended for ended, _ in stops]
    retries = [retried for _, retried in stops]
    ordered = sorted(records, key=lambda r: (r.seq, r.branch, r.superseded, r.attempt, r.pk or 0))
    rows: dict[tuple[int, int, bool], Row] = {}
    # When the run's own lane last moved on: the next main-lane position could start then.
    lane_free = run_start
    group_start: dict[int, datetime] = {}
    hidden = 0
    for record in ordered:
        internal = record.kind in INTERNAL_KINDS
        key = (record.seq, record.branch, record.superseded)
        row = rows.get(key)
        if row is None:
            row = Row(
                seq=record.seq,
                branch=record.branch,
                name=record.name,
                kind=record.kind,
                internal=internal,
                superseded=record.superseded,
                child_run_id=record.child_run_id,
            )
            rows[key] = row
        if record.branch == 0 and record.kind == "parallel":
            group_start[record.seq] = record.started_at
        hint = hints.get(record.pk or 0)
        if hint is not None:
            lane_free = max(lane_free, hint[0])
        previous = row.attempts[-1] if row.attempts else None
        if previous is not None and previous.segments[-1].kind == "backoff":
            ready = previous.segments[-1].end
        elif record.branch:
            dispatched = hint[1] if hint is not None else None
            ready = dispatched or group_start.get(record.seq, record.started_at)
        else:
            ready = lane_free
        # Stopped until a retry: the attempt could start from the retry at the earliest.
        resumed = bisect_right(retries, record.started_at)
        if resumed:
            ready = max(ready, retries[resumed - 1])
        # The end of the stretch the attempt began in: a later stop's end, or the run's.
        stop = bisect_left(stop_ends, record.started_at)
        cut = stop_ends[stop] if stop < len(stop_ends) else run_end
        wait = waits.get(record.pk or 0, "")
        attempt = Attempt(
            id=record.pk or 0,
            attempt=record.attempt,
            status=record.status,
            segments=tuple(_segments(record, ready, cut or horizon, wait, ended=cut is not None)),
            error_message=error_message(record.error),
        )
        row.attempts.append(attempt)
        if record.branch == 0 and not record.superseded:
            lane_free = max(lane_free, attempt.segments[-1].end)
        if row.child_run_id is None and record.child_run_id is not None:
            row.child_run_id = record.child_run_id
    shown = []
    for row in rows.values():
        if row.internal and not show_internal:
            hidden += 1
            continue
        shown.append(row)
    end = max([horizon, *(row.end for row in shown)]) if shown else horizon
    return Timeline(start=run_start, end=end, rows=shown, hidden_internal=hidden)


def _segments(
    record: JournalRow, ready: datetime, horizon: datetime, wait: str, *, ended: bool
) -> list[Segment]:
    """The spans of one attempt; `ended`: the run ended (or stopped) at `horizon`, so nothing
    is open and a back-off it was waiting out stops there (its retry_at never came)."""
    started, finished = record.started_at, record.finished_at
    segments: list[Segment] = []
    if record.status == "queued":
        # Created with its group, not yet given to a worker: all of it so far is queueing.
        is_open = finished is None and not ended
        return [Segment("queued", started, finished or horizon, open=is_open)]
    if (started - ready).total_seconds() > MIN_QUEUED_SECONDS and ready < started:
        segments.append(Segment("queued", ready, started, label="waiting for a worker"))
    end = finished or horizon
    is_open = finished is None and not ended
    if record.kind in WAITING_KINDS:
        segments.append(
            Segment("waiting", started, end, open=is_open, label=_wait_label(record, wait))
        )
    else:
        segments.append(Segment("running", started, max(end, started), open=is_open))
    if record.status == "retrying" and record.retry_at is not None and finished is not None:
        backoff_end = max(record.retry_at, finished)
        # A run that ended during the back-off never made the next attempt.
        cut = ended and backoff_end > horizon
        label = f"next attempt at {record.retry_at:%H:%M:%S}"
        segments.append(
            Segment(
                "backoff",
                finished,
                max(horizon, finished) if cut else backoff_end,
                open=not ended and backoff_end > horizon,
                label=f"{label}, not reached: the run ended first" if cut else label,
            )
        )
    return segments


def _wait_label(record: JournalRow, wait: str) -> str:
    if wait:
        return wait
    detail = record.detail if isinstance(record.detail, dict) else {}
    if record.kind == "sleep":
        until = record.wake_at
        return f"a timer until {until:%Y-%m-%d %H:%M:%S}" if until else "a timer"
    if record.kind == "wait":
        types = detail.get("event_types") or []
        return "event " + ", ".join(str(kind) for kind in types) if types else "an event"
    if record.kind == "child_result":
        return f"child run #{record.child_run_id}" if record.child_run_id else "a child run"
    if record.kind == "parallel":
        count = detail.get("count")
        return f"{count} parallel steps" if count else "parallel steps"
    if record.kind == "task":
        return "a person's decision"
    return ""
