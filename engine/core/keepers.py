"""A process's leases, renewed from one thread while their work runs (a run's lease, a bulkhead
slot's): if the process dies, renewals stop and the lease lapses for a sweeper to see.

The thread ends once it wakes to nothing held, and `retire` runs in it then: a renewal opens a
database connection of the thread's own, which an idle process would otherwise keep open for
good (and which kept the test database from being dropped at the end of a test session)."""

import threading
from collections.abc import Callable


class LeaseKeeper[Key, Value]:
    """Holds `key → value` while work runs and calls `renew` with all of them every `interval()`
    seconds. A renewal runs under the lock, so once release() returns no renewal of that key
    is still on its way (one landing after a lapse would hide the lapse from the sweeper)."""

    def __init__(
        self,
        name: str,
        interval: Callable[[], float],
        renew: Callable[[dict[Key, Value]], None],
        retire: Callable[[], None] = lambda: None,
    ) -> None:
        self.name = name
        self.interval = interval
        self.renew = renew
        self.retire = retire
        self.held: dict[Key, Value] = {}
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None

    def hold(self, key: Key, value: Value) -> None:
        with self.lock:
            self.held[key] = value
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(
                    target=self._renew_forever, daemon=True, name=self.name
                )
                self.thread.start()

    def release(self, key: Key) -> None:
        with self.lock:
            self.held.pop(key, None)

    def _renew_forever(self) -> None:
        try:
            while True:
                threading.Event().wait(self.interval())
                with self.lock:
                    if not self.held:
                        # Under the lock: a hold() from now on sees no live thread and starts one.
                        self.thread = None
                        return
                    self.renew(dict(self.held))
        finally:
            self.retire()
