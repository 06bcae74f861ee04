"""On the embedded SQLite, the rows the engine reads with its own statements (the journal, the
run taken with its lease, a workflow's cap) come back as the ORM would give them: aware
datetimes, decoded JSON, booleans. SQLite's driver returns naive datetimes, and replay compares
a retry's or a wait's time with an aware now: a naive one failed the run.

Runs `manage.py shell` against a fresh SQLite database, as `make run` would use it.
"""

import json

from tests.embedded.commands import embedded_environment, manage

READ_BACK = """
import json
from datetime import timedelta
from django.utils import timezone
from engine.models import Run, StepRecord, WorkflowCap
from engine.resilience.priorities import _locked_cap
from engine.runtime.leases import acquire
from engine.runtime.journal_reads import load_journal

now = timezone.now()
run = Run.objects.create(
    workflow="w", version="1", status="pending", created_at=now, input={"order": 7}
)
StepRecord.objects.create(
    run=run, seq=0, kind="step", name="charge", status="retrying", started_at=now,
    retry_at=now + timedelta(minutes=5), error={"type": "Timeout"},
)
WorkflowCap.objects.create(workflow="w", max_active=2)
entry = load_journal(run.pk)[0]
taken = acquire(run.pk)
cap = _locked_cap("w")
print(json.dumps({
    "retry_at_aware": entry.retry_at.tzinfo is not None,
    "retry_in_future": entry.retry_at > now,
    "error": entry.error,
    "input": taken.input,
    "started_aware": taken.started_at.tzinfo is not None,
    "wake_requested": taken.wake_requested,
    "cap_max": cap.max_active,
    "cap_updated_aware": cap.updated_at.tzinfo is not None,
}))
"""


def test_rows_read_without_the_orm_on_sqlite(tmp_path) -> None:
    env = embedded_environment(tmp_path)
    manage(env, "migrate", "--noinput", "-v", "0")
    read = json.loads(manage(env, "shell", "-c", READ_BACK).strip().splitlines()[-1])
    assert read == {
        "retry_at_aware": True,
        "retry_in_future": True,
        "error": {"type": "Timeout"},
        "input": {"order": 7},
        "started_aware": True,
        "wake_requested": False,
        "cap_max": 2,
        "cap_updated_aware": True,
    }
