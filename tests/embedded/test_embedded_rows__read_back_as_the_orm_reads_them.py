"""On the embedded SQLite, the rows the engine reads with its own statements (the journal, the
run taken with its lease, a workflow's cap) come back as the ORM would give them: aware
datetimes, decoded JSON, booleans. SQLite's driver returns naive datetimes, and replay compares
a retry's or a wait's time with an aware now: a naive one failed the run.

Runs `manage.py shell` against a fresh SQLite database, as `make run` would use it.
"""

import json
import subprocess
import sys

from tests.processes import PROJECT_ROOT, process_environment

READ_BACK = """
import json
from datetime import timedelta
from django.utils import timezone
from engine.models import Run, StepRecord, WorkflowCap
from engine.resilience.priorities import _locked_cap
from engine.runtime.runner import acquire
from engine.runtime.store import load_journal

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
    env = process_environment(
        DATABASE_URL=None, REDIS_URL=None, SECRET_KEY=None, STEPWISE_VAR_DIR=str(tmp_path)
    )

    def manage(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=PROJECT_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    manage("migrate", "--noinput", "-v", "0")
    read = json.loads(manage("shell", "-c", READ_BACK).strip().splitlines()[-1])
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
