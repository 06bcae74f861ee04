"""The breaker's transitions as plain functions: N failures within the window open it, older
ones do not count; open refuses with the remaining cool-down; half-open lets `half_open_probes`
probes through, their successes close it and a failure reopens it; a failure rate opens it only
over the minimum of calls."""

import pytest

from engine.core.errors import CircuitOpen
from engine.core.resilience import BreakerSpec
from engine.resilience.breakers import admit, record

SPEC = BreakerSpec("dep", failure_threshold=3, window=10, cool_down=5, half_open_probes=2)


def fail(state, at, probe=False):  # type: ignore[no-untyped-def]
    return record(state, SPEC, at, ok=False, probe=probe)


def test_failures_within_the_window_open_it_older_ones_do_not() -> None:
    state = fail(fail(None, 0), 1)
    state = fail(state, 10.5)  # the one at 0 s left the window
    assert state["status"] == "closed" and state["failures"] == [1, 10.5]
    state = fail(state, 10.9)
    assert state["status"] == "open" and state["open_until"] == 15.9


def test_open_refuses_with_the_remaining_cool_down_then_probes_decide() -> None:
    state = fail(fail(fail(None, 0), 0), 0)
    with pytest.raises(CircuitOpen) as refused:
        admit(state, SPEC, 3)
    assert refused.value.retry_after == pytest.approx(2)
    state, probe = admit(state, SPEC, 5)
    assert probe and state["status"] == "half_open"
    state, second = admit(state, SPEC, 5.1)
    assert second
    with pytest.raises(CircuitOpen) as busy:
        admit(state, SPEC, 5.2)  # both probes are out
    assert busy.value.state == "half_open"
    state = record(state, SPEC, 6, ok=True, probe=True)
    assert state["status"] == "half_open"
    state = record(state, SPEC, 6.1, ok=True, probe=True)
    assert state["status"] == "closed" and state["failures"] == []


def test_a_failed_probe_opens_it_again() -> None:
    state, _ = admit(fail(fail(fail(None, 0), 0), 0), SPEC, 5)
    state = fail(state, 5.5, probe=True)
    assert state["status"] == "open" and state["open_until"] == 10.5 and state["opens"] == 2


def test_a_failure_rate_counts_only_over_the_minimum_of_calls() -> None:
    spec = BreakerSpec("rate", failure_rate=0.5, minimum_calls=4, window=10)
    state = record(None, spec, 0, ok=False, probe=False)
    state = record(state, spec, 0.1, ok=False, probe=False)
    assert state["status"] == "closed"  # 2 of 2 failed, but under 4 calls
    state = record(state, spec, 0.2, ok=True, probe=False)
    state = record(state, spec, 0.3, ok=True, probe=False)
    assert state["status"] == "open"  # 2 of 4 failed


def test_a_wrong_declaration_names_its_field() -> None:
    with pytest.raises(ValueError, match="cool_down: more than 0 seconds"):
        BreakerSpec("dep", cool_down=0)
    with pytest.raises(ValueError, match="window: a duration"):
        BreakerSpec.from_config({"name": "dep", "window": "soon"})
    assert BreakerSpec.from_config({"name": "dep", "window": "2m"}).window == 120
