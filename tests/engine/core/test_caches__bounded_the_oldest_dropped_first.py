"""The bounded cache behind compiled graphs and parsed machine definitions
(engine.core.caches): at most `size` entries, the oldest dropped first, and the first value
kept under a key is the one every later caller gets."""

from engine.core.caches import BoundedCache


def test_the_oldest_entry_is_dropped_once_it_is_full() -> None:
    cache: BoundedCache[str, int] = BoundedCache(2)
    assert cache.keep("a", 1) == 1
    assert cache.keep("b", 2) == 2
    assert cache.keep("c", 3) == 3
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (None, 2, 3)
    assert len(cache.entries) == 2


def test_a_key_kept_already_keeps_its_first_value() -> None:
    cache: BoundedCache[str, list[int]] = BoundedCache(2)
    first, second = [1], [1]
    assert cache.keep("a", first) is first
    assert cache.keep("a", second) is first  # a thread that built it too gets the kept one
    assert cache.get("a") is first and len(cache.entries) == 1
