"""Signals the engine sends after commit; monitoring turns them into live updates.

Every signal is sent with sender=None and keyword arguments only.
"""

from typing import Any

from django.db import transaction
from django.dispatch import Signal

run_changed = Signal()
"""run_id, workflow, status: a run was created or changed status."""

step_changed = Signal()
"""run_id, seq, branch, name, kind, status, attempt: a journal entry was written."""

run_progress = Signal()
"""run_id, progress ({current, total, message})."""

run_metric = Signal()
"""run_id, name, value, recorded_at."""


def send_on_commit(signal: Signal, **kwargs: Any) -> None:
    transaction.on_commit(lambda: signal.send(sender=None, **kwargs))


def announce_step(record: Any) -> None:
    """Tell listeners, once committed, that a journal entry (a StepRecord) was written or
    changed."""
    send_on_commit(
        step_changed,
        run_id=record.run_id,
        seq=record.seq,
        branch=record.branch,
        name=record.name,
        kind=record.kind,
        status=record.status,
        attempt=record.attempt,
    )


task_changed = Signal()
"""task_id, run_id, kind, status, event: created, decision, decided, reminded, escalated, closed."""

instance_changed = Signal()
"""instance_id, machine, state, status: a machine instance was created, changed state or
context, or had an event recorded (applied, refused or failed)."""
