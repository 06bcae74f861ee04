"""The search index update re-indexes its entity and is started through debounce_start."""

from datetime import timedelta
from typing import Any

import pytest

import engine.runtime.debounce
from engine.core.testing import WorkflowTester
from engine.demos import debouncing


def test_the_workflow_updates_the_index_of_its_entity() -> None:
    """A run re-indexes the entity of its input in one update-index step."""
    tester = WorkflowTester()

    run = tester.run(debouncing.search_index_update, {"entityId": "product-42"})

    assert run.output["indexed"] == "product-42"
    assert run.step_names() == ["update-index"]


def test_requests_are_debounced_per_entity_for_five_seconds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """request_index_update debounces by entity with a 5-second window and the latest input."""
    calls: list[tuple[Any, ...]] = []
    monkeypatch.setattr(engine.runtime.debounce, "debounce_start", lambda *args: calls.append(args))

    debouncing.request_index_update("product-42")

    assert calls == [
        (
            "search-index-update",
            "search-index:product-42",
            {"entityId": "product-42"},
            timedelta(seconds=5),
        )
    ]
