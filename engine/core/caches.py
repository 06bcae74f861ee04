"""What a process keeps of rows that never change (a published graph's program, a machine
version's parsed definition), bounded: the oldest entry is dropped first, so a process that
lives through many publications holds a fixed number of them."""

import threading


class BoundedCache[Key, Value]:
    """A dict safe across threads, at most `size` entries. Values are built outside it: two
    threads that miss the same key both build, and the first one kept is the one both use."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.entries: dict[Key, Value] = {}
        self.lock = threading.Lock()

    def get(self, key: Key) -> Value | None:
        with self.lock:
            return self.entries.get(key)

    def keep(self, key: Key, value: Value) -> Value:
        """Keep `value` under `key` unless one is kept already; returns the one kept."""
        with self.lock:
            kept = self.entries.get(key)
            if kept is not None:
                return kept
            if len(self.entries) >= self.size:
                self.entries.pop(next(iter(self.entries)))
            self.entries[key] = value
            return value
