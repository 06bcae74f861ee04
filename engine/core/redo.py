"""What retrying a run re-does: one rule for code workflows and graphs, the store and the harness.

A retried run resumes where it stopped (the failed step, or where a cancellation or its run
timeout reached it). That position and everything journaled after it (compensations, failure
handlers) are set aside and run again. Completed steps before it keep their journaled results
and never run again, with one exception: a step whose compensation ran as the run stopped had
its effect undone, so it runs again in its own place, with a new idempotency key, together with
the rest. Waits that the run's end closed (a branch waiting for an event, a person, a delay or
a child) wait again. A parallel group keeps its completed steps and runs the others again.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from engine.core.journal import EntryKind, EntryStatus, Position

_OPEN = (EntryStatus.WAITING, EntryStatus.RETRYING)


@dataclass(frozen=True)
class JournalRow:
    """What the rule needs to know of one live journal record (any attempt)."""

    seq: int
    branch: int
    kind: str
    status: str
    undoes: Position | None = None
    child_run: int | None = None


@dataclass(frozen=True)
class RetryPlan:
    resume_at: int | None
    """The position the run resumes at, or None when it stopped with nothing failed."""
    set_aside: frozenset[Position]
    """Every attempt at these positions is kept for the record but no longer counts."""
    redo: tuple[Position, ...]
    """Steps whose effect a compensation undid: they run again with a new idempotency key."""
    children: tuple[int, ...]
    """Child runs the parent will wait for again: retry them if they did not complete."""


def plan_retry(rows: Iterable[JournalRow], stopped_at: int | None) -> RetryPlan:
    """Apply the rule to a run's live journal; `stopped_at` is where the run stopped."""
    rows = list(rows)
    own = {row.seq: row for row in rows if row.branch == 0}
    resume_at = stopped_at if stopped_at is not None else _first_failure(own.values())
    set_aside: set[Position] = set()
    redo: list[Position] = []
    if resume_at is not None:
        for row in rows:
            if row.seq > resume_at:
                set_aside.add(Position(row.seq, row.branch))
        set_aside |= _reopened(resume_at, own.get(resume_at), rows)
        # Compensations that ran as the run stopped undid these steps: do them again.
        for row in rows:
            if row.seq >= resume_at and row.undoes and row.status == EntryStatus.COMPLETED:
                for target in _undone(row.undoes, own, rows):
                    if target not in redo:
                        redo.append(target)
                    set_aside.add(target)
                set_aside.add(Position(row.undoes.seq))  # a branch's group runs again too
    # Waits before the stop that the run's end closed: they wait again.
    for seq, row in own.items():
        if (resume_at is None or seq < resume_at) and row.status in _OPEN:
            set_aside |= _reopened(seq, row, rows)
    children = sorted(
        {
            row.child_run
            for row in rows
            if row.child_run is not None
            and row.kind == EntryKind.CHILD_RESULT
            and row.status != EntryStatus.COMPLETED
            and Position(row.seq, row.branch) in set_aside
        }
    )
    return RetryPlan(resume_at, frozenset(set_aside), tuple(sorted(redo)), tuple(children))


def _first_failure(own: Iterable[JournalRow]) -> int | None:
    """For runs that stopped before they recorded where: the earliest failed or cancelled
    position."""
    stops = [row.seq for row in own if row.status in (EntryStatus.FAILED, EntryStatus.CANCELLED)]
    return min(stops, default=None)


def _undone(target: Position, own: dict[int, JournalRow], rows: list[JournalRow]) -> list[Position]:
    """The steps a compensation undid: one step, or every step of a parallel group."""
    group = own.get(target.seq)
    if target.branch or group is None or group.kind != EntryKind.PARALLEL:
        return [target]
    return [Position(row.seq, row.branch) for row in rows if row.seq == target.seq and row.branch]


def _reopened(seq: int, row: JournalRow | None, rows: list[JournalRow]) -> set[Position]:
    """The positions to set aside so that the operation at `seq` runs (or waits) again; a
    parallel group keeps the steps that completed."""
    positions = {Position(seq)}
    for other in rows:
        if other.seq != seq or other.branch == 0:
            continue
        group = row is not None and row.kind == EntryKind.PARALLEL
        if not group or other.status != EntryStatus.COMPLETED:
            positions.add(Position(other.seq, other.branch))
    return positions
