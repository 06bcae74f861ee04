"""A lease keeper renews what it holds from one thread, and release() waits for a renewal under
way: once it returns, nothing renews that lease again (a renewal landing after a lapse hid the
lapse from the sweeper). Run and bulkhead leases both use it (engine.runtime.leases,
engine.resilience.bulkheads)."""

import threading

from engine.core.keepers import LeaseKeeper


def test_it_renews_what_is_held_and_stops_after_release() -> None:
    renewed: list[dict[str, int]] = []
    twice = threading.Event()

    def renew(held: dict[str, int]) -> None:
        renewed.append(held)
        if len(renewed) >= 2:
            twice.set()

    keeper: LeaseKeeper[str, int] = LeaseKeeper("test-keeper", lambda: 0.01, renew)
    keeper.hold("a", 1)
    keeper.hold("b", 2)
    assert twice.wait(5)
    assert renewed[-1] == {"a": 1, "b": 2}
    keeper.release("a")
    keeper.release("b")
    count = len(renewed)
    threading.Event().wait(0.1)
    assert len(renewed) == count  # nothing held, nothing renewed


def test_release_waits_for_the_renewal_under_way() -> None:
    renewing, finish = threading.Event(), threading.Event()

    def slow_renew(held: dict[str, int]) -> None:
        renewing.set()
        finish.wait(5)

    keeper: LeaseKeeper[str, int] = LeaseKeeper("test-keeper", lambda: 0.01, slow_renew)
    keeper.hold("a", 1)
    assert renewing.wait(5)
    released = threading.Event()
    threading.Thread(target=lambda: (keeper.release("a"), released.set()), daemon=True).start()
    assert not released.wait(0.3)  # the renewal under way still holds the lock
    finish.set()
    assert released.wait(5)
    assert keeper.held == {}


def test_the_thread_retires_once_nothing_is_held_and_a_new_hold_starts_another() -> None:
    """An idle process keeps no renewal thread, nor the database connection it opened."""
    retired_in: list[threading.Thread] = []
    retired = threading.Event()
    renewed = threading.Event()

    def retire() -> None:
        retired_in.append(threading.current_thread())
        retired.set()

    keeper: LeaseKeeper[str, int] = LeaseKeeper(
        "test-keeper", lambda: 0.01, lambda held: renewed.set(), retire=retire
    )
    keeper.hold("a", 1)
    first = keeper.thread
    assert renewed.wait(5)
    keeper.release("a")
    assert retired.wait(5)
    assert first is not None and retired_in == [first]  # retired in the renewing thread
    first.join(5)
    assert keeper.thread is None and not first.is_alive()

    renewed.clear()
    keeper.hold("b", 2)
    assert keeper.thread is not None and keeper.thread is not first
    assert renewed.wait(5)
    keeper.release("b")
