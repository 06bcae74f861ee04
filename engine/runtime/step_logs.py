"""Reading what log() wrote: per journal record, per step, for the API and the run page."""

from dataclasses import dataclass
from typing import Any

from engine.core.journal import EntryKind
from engine.models import StepRecord

LOG_VALUE = "log"
"""The name of the journaled value a log() in workflow code (outside any step) takes."""


def lines_of(record: StepRecord) -> list[dict[str, Any]]:
    """The lines a journal record holds: a step attempt's, or a workflow-level log() line."""
    if record.kind == EntryKind.VALUE and record.name == LOG_VALUE:
        return [record.output] if isinstance(record.output, dict) else []
    return list(record.logs) if isinstance(record.logs, list) else []


@dataclass(frozen=True)
class AttemptLog:
    attempt: int
    status: str
    lines: list[dict[str, Any]]


def step_logs(run_id: int, seq: int, branch: int = 0) -> list[AttemptLog]:
    """Every attempt's lines at one position of a run, oldest attempt first (for a side panel
    showing one step); superseded attempts are left out."""
    records = StepRecord.objects.filter(
        run_id=run_id, seq=seq, branch=branch, superseded=False
    ).order_by("attempt")
    return [
        AttemptLog(record.attempt, record.status, lines)
        for record in records.only("attempt", "status", "kind", "name", "output", "logs")
        if (lines := lines_of(record))
    ]
