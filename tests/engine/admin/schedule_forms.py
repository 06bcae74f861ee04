"""The schedule admin's add/change form as a browser posts it, for tests to vary."""

from typing import Any

BLANK = {
    "interval_seconds": "",
    "start_at_0": "",
    "start_at_1": "",
    "end_at_0": "",
    "end_at_1": "",
    "jitter_seconds": "0",
    "overlap": "skip",
    "catch_up": "run_once",
    "catch_up_limit": "10",
}


def schedule_form(**fields: Any) -> dict[str, Any]:
    """A schedule's posted form: the defaults a browser sends, with `fields` over them."""
    return {**BLANK, **fields}
