"""A call with a deadline hands back its value or its error, and gives up on it in time."""

import threading
import time

import pytest

from engine.core.deadline import call_with_deadline
from engine.core.errors import StepTimeout


def test_a_call_in_time_gives_its_value_and_runs_the_exit_hook_in_its_thread() -> None:
    exits: list[str] = []

    def call() -> str:
        return threading.current_thread().name

    def on_exit() -> None:
        exits.append(threading.current_thread().name)

    assert call_with_deadline(call, 5, "call", thread_name="worker", on_thread_exit=on_exit) == (
        "worker"
    )
    assert exits == ["worker"]


def test_a_failing_call_raises_its_own_error() -> None:
    def call() -> None:
        raise KeyError("missing")

    with pytest.raises(KeyError, match="missing"):
        call_with_deadline(call, 5, "call")


def test_a_slow_call_is_abandoned_with_a_step_timeout_naming_it() -> None:
    release = threading.Event()

    def call() -> None:
        release.wait(5)

    began = time.monotonic()
    with pytest.raises(StepTimeout, match=r"node 'slow' did not finish within 0\.05s"):
        call_with_deadline(call, 0.05, "node 'slow'")
    assert time.monotonic() - began < 2
    release.set()
