"""Running a call in a thread of its own and giving up on it after a deadline."""

import contextvars
import threading
from collections.abc import Callable

from engine.core.errors import StepTimeout


def call_with_deadline[T](
    call: Callable[[], T],
    seconds: float,
    what: str,
    *,
    thread_name: str | None = None,
    on_thread_exit: Callable[[], None] | None = None,
) -> T:
    """`call()` within `seconds`, or StepTimeout saying that `what` did not finish in time.

    Python cannot stop a thread: a call that times out is abandoned and keeps running in the
    background, so whatever runs here must be idempotent (as every step should be).
    `on_thread_exit` runs in the thread once the call is done, e.g. to close its connections.
    """
    values: list[T] = []
    errors: list[BaseException] = []

    def in_thread() -> None:
        try:
            values.append(call())
        except BaseException as exc:  # handed back to the waiting thread
            errors.append(exc)
        finally:
            if on_thread_exit is not None:
                on_thread_exit()

    worker = threading.Thread(
        target=contextvars.copy_context().run, args=(in_thread,), daemon=True, name=thread_name
    )
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        raise StepTimeout(f"{what} did not finish within {seconds:g}s")
    if errors:
        raise errors[0]
    return values[0]
