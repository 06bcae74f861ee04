"""With the database backend, a rate limit's key and a breaker leave a ResilienceState row
behind; once it lapses the retention sweep deletes it, while a live one stays and a worker
changing a key after its row was pruned simply makes a new row."""

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from engine.core.resilience import RateLimitSpec
from engine.models import ResilienceState
from engine.resilience import rate_limits
from engine.resilience.state import DatabaseStore, state_store
from engine.runtime.retention import RetentionSweeper

pytestmark = pytest.mark.django_db


@pytest.fixture
def database_state(settings: Any) -> Any:
    settings.STEPWISE_RESILIENCE_STATE = "database"
    state_store.cache_clear()
    yield
    state_store.cache_clear()


@pytest.mark.usefixtures("database_state")
def test_the_retention_sweep_deletes_lapsed_rate_limit_keys_and_keeps_live_ones() -> None:
    assert isinstance(state_store(), DatabaseStore)
    spec = RateLimitSpec("receipts", limit=5, period=60, key="{{ input.customer }}")
    for customer in ("ada", "bob", "cy"):
        rate_limits.acquire(spec, {"input": {"customer": customer}})
    assert ResilienceState.objects.filter(name="receipts").count() == 3
    # Two customers' periods ran out an hour ago (as if no call came since).
    ResilienceState.objects.filter(name="receipts", key__in=["ada", "bob"]).update(
        expires_at=timezone.now() - timedelta(hours=1)
    )

    assert RetentionSweeper()() == 2

    assert list(ResilienceState.objects.values_list("key", flat=True)) == ["cy"]
    usage = {limit.name: limit.keys for limit in rate_limits.all_rate_limits()}
    assert usage["receipts"] == [("cy", 1)]
    # A pruned key starts afresh: a full burst is allowed again.
    for _ in range(5):
        rate_limits.acquire(spec, {"input": {"customer": "ada"}})
    assert ResilienceState.objects.filter(name="receipts").count() == 2


@pytest.mark.usefixtures("database_state")
def test_nothing_lapsed_leaves_the_table_alone() -> None:
    rate_limits.acquire(RateLimitSpec("exports", limit=1, period=60), {})
    assert RetentionSweeper()() == 0
    assert ResilienceState.objects.filter(name="exports").exists()
