"""On the embedded SQLite, a stage that must be decided by someone other than an earlier
stage's decider (`distinct_from`) can be decided: finding who decided the earlier stages was a
UNION that SQLite refused ("ORDER BY not allowed in subqueries of compound statements"), so
every decision of such a stage was a 500 there, on PostgreSQL never.

Runs `manage.py shell` against a fresh SQLite database, as `make run` would use it.
"""

import json

from tests.embedded.commands import embedded_environment, manage

FOUR_EYES = """
import json
from django.contrib.auth.models import User
from django.utils import timezone
from engine.human.standing import earlier_stage_decided_by
from engine.models import HumanTask, Run, TaskDecision

now = timezone.now()
ada = User.objects.create(username="ada")
bob = User.objects.create(username="bob")
cy = User.objects.create(username="cy")
run = Run.objects.create(workflow="w", version="1", status="waiting", created_at=now)
manager = HumanTask.objects.create(
    run=run, step_name="manager", kind="approval", title="Manager", created_at=now
)
vp = HumanTask.objects.create(
    run=run, step_name="vp", kind="approval", title="VP", created_at=now,
    distinct_from=["manager"],
)
TaskDecision.objects.create(task=manager, user=ada, decision="approved", decided_at=now)
# Bob decided for Cy, who was away: both count as having decided the manager stage.
TaskDecision.objects.create(
    task=manager, user=cy, decided_by=bob, decision="approved", decided_at=now
)
print(json.dumps({
    "ada": earlier_stage_decided_by(vp, ada),
    "bob (for cy)": earlier_stage_decided_by(vp, bob),
    "cy": earlier_stage_decided_by(vp, cy),
    "someone else": earlier_stage_decided_by(vp, User.objects.create(username="dee")),
}))
"""


def test_who_decided_an_earlier_stage_is_read_on_sqlite(tmp_path) -> None:
    env = embedded_environment(tmp_path)
    manage(env, "migrate", "--noinput", "-v", "0")
    read = json.loads(manage(env, "shell", "-c", FOUR_EYES).strip().splitlines()[-1])
    assert read == {
        "ada": "manager",
        "bob (for cy)": "manager",
        "cy": "manager",
        "someone else": "",
    }
