"""100 operations run as parallel steps, at most 10 at a time, results in call order."""

from typing import Any

import pytest

from engine.core.tester_backend import MemoryBackend
from engine.core.testing import WorkflowTester
from engine.demos import parallel_limited


def test_100_operations_run_and_come_back_in_order() -> None:
    """Every operation runs once and the results keep the order of the calls."""
    tester = WorkflowTester()

    run = tester.run(parallel_limited.parallel_processing, {"factor": 3})

    assert run.status == "completed"
    assert run.output["slow"] == [3, 6, 9]
    assert run.output["fast"] == [3, 6, 9]
    assert run.output["limited"] == [3 * index for index in range(100)]
    assert tester.calls(parallel_limited.operation) == 3 + 100
    assert run.step_names() == ["sequential", "parallel", "parallel-limited"]


def test_the_limited_group_asks_for_a_concurrency_of_10(monkeypatch: pytest.MonkeyPatch) -> None:
    """The 100-step group is handed to the backend with concurrency 10 (the 3-step one without)."""
    # The harness runs branches one after another, so the limit can only be seen where the
    # workflow hands the group to the backend (the database backend dispatches 10 at a time).
    groups: list[tuple[str, int, int | None]] = []
    begin_parallel = MemoryBackend.begin_parallel

    def spy(
        self: MemoryBackend,
        seq: int,
        name: str,
        calls: list[Any],
        concurrency: int | None,
        reports: Any,
    ) -> Any:
        groups.append((name, len(calls), concurrency))
        return begin_parallel(self, seq, name, calls, concurrency, reports)

    monkeypatch.setattr(MemoryBackend, "begin_parallel", spy)

    WorkflowTester().run(parallel_limited.parallel_processing, {"factor": 1})

    assert groups == [("parallel", 3, None), ("parallel-limited", 100, 10)]
