"""Under faults nothing is lost: graph runs on the production layout (Daphne, two Celery
workers, the timer loop) all complete while workers are SIGKILLed at random and Redis and
PostgreSQL are restarted; each HTTP effect reaches the receiver under exactly one idempotency
key, no record is created twice and no approval decided through the API is lost.

Small here (`pytest -m chaos` runs it alone); `bench/chaos.py` runs 1,000 runs.
"""

import os
from pathlib import Path

import pytest

from tests.chaos.scenario import Plan, run_chaos

# The django_db mark makes the session create (migrate) the test database the cluster copies.
pytestmark = [pytest.mark.chaos, pytest.mark.integration, pytest.mark.django_db(transaction=True)]

RUNS = int(os.environ.get("STEPWISE_CHAOS_RUNS", "40"))
KILLS = int(os.environ.get("STEPWISE_CHAOS_KILLS", "2"))


@pytest.mark.timeout(900)
def test_runs_effects_records_and_approvals_survive_kills_and_restarts(
    stepwise_env: dict[str, str], tmp_path: Path
) -> None:
    # The private cluster starts from a copy of the suite's migrated test database.
    plan = Plan(runs=RUNS, kills=KILLS, settle_timeout=max(120.0, RUNS * 0.6))
    figures = run_chaos(plan, tmp_path, stepwise_env["DATABASE_URL"])

    assert figures.problems == []
    assert figures.completed == figures.runs == RUNS
    assert (figures.kills, figures.redis_restarts, figures.postgres_restarts) == (KILLS, 1, 1)
    assert figures.effect_keys == 2 * RUNS
    assert figures.duplicates == 0
    assert 0 < figures.approvals <= RUNS  # a decision whose answer was lost is retried: 409
    assert figures.lost_approvals == 0
    assert figures.server_errors == 0  # an outage answers 503, asking to retry
