"""GCRA: `limit` calls may go at once, then one per `period / limit`; a refused call learns
exactly how long until its slot and changes nothing; usage counts the calls within the period."""

from engine.core.resilience import RateLimitSpec
from engine.resilience.rate_limits import take, used

SPEC = RateLimitSpec("api", limit=3, period=6)


def test_a_burst_of_limit_then_one_slot_per_interval() -> None:
    state = None
    for at in (0.0, 0.0, 0.0):
        state, wait = take(state, SPEC, at)
        assert wait == 0
    assert used(state, SPEC, 0.0) == 3
    refused, wait = take(state, SPEC, 1.0)
    assert refused == state and wait == 1.0  # the next slot is at 2 s
    state, wait = take(state, SPEC, 2.0)
    assert wait == 0
    assert used(state, SPEC, 2.0) == 3
    assert used(state, SPEC, 8.0) == 0
