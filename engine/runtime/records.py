"""Journal rows shared by a run's lifecycle (engine.runtime.runs) and its journal
(engine.runtime.store): how a position is named in Run.redo, and a child's end written into
the parent's waiting entry."""

from django.utils import timezone

from engine.core.journal import EntryStatus, Position
from engine.models import Run, RunStatus, StepRecord


def position_key(position: Position) -> str:
    """How Run.redo names a position."""
    return f"{position.seq}.{position.branch}"


def apply_child_outcome(record: StepRecord, child: Run) -> None:
    record.finished_at = timezone.now()
    if child.status == RunStatus.COMPLETED:
        record.status = EntryStatus.COMPLETED
        record.output = child.output
    else:
        record.status = EntryStatus.FAILED
        record.error = {"status": child.status, **(child.error or {})}
