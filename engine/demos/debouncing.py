# engine.core.step(...) is annotated "-> Any", which strict mypy calls an untyped decorator.
"""Debouncing: a burst of changes to one entity starts one re-index, with the latest input."""

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from engine.core import Retry, idempotency_key, on, step, workflow

if TYPE_CHECKING:
    from engine.models import DebounceSlot

DEBOUNCE_WINDOW = timedelta(seconds=5)


@step(name="update-index", retry=Retry(max_attempts=3))
def update_search_index(entity_id: str) -> dict[str, Any]:
    """Re-index one entity (simulated)."""
    return {"indexed": entity_id, "idempotency_key": idempotency_key()}


@on.Product.updated(debounce=DEBOUNCE_WINDOW, key="event.entityId")
@workflow("search-index-update", tags=("demo", "debouncing"))
def search_index_update(data: dict[str, Any]) -> dict[str, Any]:
    """Re-index one entity; Product.updated events and request_index_update() debounce it."""
    result: dict[str, Any] = update_search_index(data["entityId"])
    return result


def request_index_update(entity_id: str) -> "DebounceSlot":
    """Ask for a re-index: calls for one entity within 5 seconds of each other start one run."""
    # Imported here so that importing the demos never needs the Django app registry.
    from engine.runtime.debounce import debounce_start

    return debounce_start(
        "search-index-update",
        f"search-index:{entity_id}",
        {"entityId": entity_id},
        DEBOUNCE_WINDOW,
    )
