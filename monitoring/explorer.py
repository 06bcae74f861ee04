"""What the runs explorer shows: one page of runs with titles, durations and failing steps, the
filters as the form draws them, and the person's saved views, in a fixed few queries.

Which runs match is engine.runtime.run_search's business (the API uses it too); this module
only arranges them for the page.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.models import User
from django.utils import timezone

from engine.models import Run, RunStatus, Trigger
from engine.runtime.masking import NO_MASK, PAGE_MASK, listed_masks
from engine.runtime.run_search import (
    SORTS,
    WITHIN,
    RunQuery,
    failing_steps,
    find_runs,
    workflow_titles,
)
from monitoring.models import SavedRunView

SORT_LABELS = {
    "-started": "newest first",
    "started": "oldest first",
    "-duration": "longest first (ended runs)",
    "duration": "shortest first (ended runs)",
}
WITHIN_LABELS = {
    "15m": "last 15 minutes",
    "1h": "last hour",
    "24h": "last day",
    "7d": "last 7 days",
    "30d": "last 30 days",
}
assert set(SORT_LABELS) == set(SORTS)
assert set(WITHIN_LABELS) == set(WITHIN)


@dataclass(frozen=True)
class Row:
    run: Run
    title: str
    duration: str
    failed_step: str
    error: str


@dataclass(frozen=True)
class Explorer:
    rows: list[Row]
    next_cursor: str
    query: RunQuery
    titles: dict[str, str]
    saved: list[SavedRunView]

    @property
    def first_page(self) -> bool:
        return not self.query.cursor

    @property
    def params(self) -> str:
        return urlencode(self.query.as_params(), doseq=True)

    @property
    def next_params(self) -> str:
        return urlencode({**self.query.as_params(), "cursor": self.next_cursor}, doseq=True)

    @property
    def param_pairs(self) -> list[tuple[str, str]]:
        """The filters as (name, value) pairs, for hidden fields that carry them."""
        pairs: list[tuple[str, str]] = []
        for name, value in self.query.as_params().items():
            pairs.extend((name, item) for item in ([value] if isinstance(value, str) else value))
        return pairs

    @property
    def saved_links(self) -> list[tuple[SavedRunView, str]]:
        return [(view, urlencode(view.params, doseq=True)) for view in self.saved]

    @property
    def statuses(self) -> list[tuple[str, str, bool]]:
        return [(value, label, value in self.query.statuses) for value, label in RunStatus.choices]

    @property
    def triggers(self) -> list[tuple[str, str]]:
        return list(Trigger.choices)

    @property
    def sorts(self) -> list[tuple[str, str]]:
        return list(SORT_LABELS.items())

    @property
    def withins(self) -> list[tuple[str, str]]:
        return list(WITHIN_LABELS.items())

    @property
    def match_fields(self) -> list[str]:
        """The match filters given, and one empty field to add another."""
        shown = [str(match) for match in self.query.matches]
        return [*shown, ""] if len(shown) < 5 else shown

    @property
    def local_after(self) -> str:
        return _local_input(self.query.started_after)

    @property
    def local_before(self) -> str:
        return _local_input(self.query.started_before)


def _local_input(moment: datetime | None) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M") if moment else ""


def duration_text(seconds: float) -> str:
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {rest} s"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min"
    return f"{hours // 24} d {hours % 24} h"


def _error_text(error: Any) -> str:
    if isinstance(error, dict):
        text = str(error.get("message") or error.get("type") or "")
    else:
        text = "" if error is None else str(error)
    return text if len(text) <= 160 else text[:159] + "…"


def explorer_of(user: User, query: RunQuery, now: datetime) -> Explorer:
    """The page of runs for the query, each with what the list shows of it."""
    titles = workflow_titles()
    page = find_runs(query, now, titles)
    steps = failing_steps([run.pk for run in page.runs if run.status == RunStatus.FAILED])
    masks = listed_masks(user, page.runs, token=PAGE_MASK)
    rows = []
    for run in page.runs:
        # A step name or an error may quote sensitive input, as on the run's own page.
        mask = masks.get(run.pk, NO_MASK)
        duration = ""
        if run.started_at is not None:
            took: timedelta = (run.finished_at or now) - run.started_at
            duration = duration_text(max(took.total_seconds(), 0.0))
        rows.append(
            Row(
                run=run,
                title=titles.get(run.workflow, run.workflow),
                duration=duration,
                failed_step=mask.text(steps.get(run.pk, "")),
                error=_error_text(mask.value(run.error)),
            )
        )
    saved = list(SavedRunView.objects.filter(user=user).order_by("name"))
    return Explorer(rows, page.next_cursor, query, titles, saved)
