"""On the embedded SQLite a run timeout is armed and closed the long way: SQLite has no
statements that write in their CTEs, so the one-statement arming and ending
(engine.runtime.at_once) step aside, and closing timers takes no row locks there
(engine.runtime.run_timers). The run gets its deadline and its timer; a cancel closes the timer.

Runs `manage.py shell` against a fresh SQLite database, as `make run` would use it.
"""

import json

from tests.embedded.commands import embedded_environment, manage

TIMED_RUN = """
import json
from engine.models import Timer
from engine.runtime.runner import advance
from engine.runtime.runs import cancel_run, start_run

run = start_run("supplier-quote", {"request_id": "rq-1", "supplier": "acme", "items": ["a"]})
advance(run.pk)  # asks for the quote, then waits for it under the run's timeout
run.refresh_from_db()
armed = {
    "status": run.status,
    "deadline_after_start": run.deadline_at is not None and run.deadline_at > run.started_at,
    "timers": sorted(Timer.objects.filter(run=run).values_list("kind", flat=True)),
}
cancel_run(run.pk, compensate=False)
run.refresh_from_db()
print(json.dumps({
    **armed,
    "ended": run.status,
    "timers_left": Timer.objects.filter(run=run).count(),
}))
"""


def test_a_timed_run_is_armed_and_its_timer_closed_on_sqlite(tmp_path) -> None:
    env = embedded_environment(tmp_path)
    manage(env, "migrate", "--noinput", "-v", "0")
    read = json.loads(manage(env, "shell", "-c", TIMED_RUN).strip().splitlines()[-1])
    assert read == {
        "status": "waiting",
        "deadline_after_start": True,
        "timers": ["run_timeout"],
        "ended": "cancelled",
        "timers_left": 0,
    }
