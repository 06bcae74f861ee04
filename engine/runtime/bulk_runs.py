"""Cancelling or retrying many runs at once: the chosen ones, or every one a filter matches.

Each run goes through `cancel_run` / `retry_run` in its own transaction, under the same rules as
one at a time; a run that may not be changed is reported as refused with the reason and the
others go on. "Every match" stops at MAX_BULK_RUNS per request and says whether more matched.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from engine.models import Run
from engine.runtime.run_search import RunQuery, matching_runs
from engine.runtime.runs import RunStateError, cancel_run, retry_run

MAX_BULK_RUNS = 500
ACTIONS = ("cancel", "retry")


@dataclass(frozen=True)
class Outcome:
    run_id: int
    workflow: str
    done: bool
    detail: str  # what happened, or why it was refused


@dataclass(frozen=True)
class BulkResult:
    outcomes: list[Outcome]
    more: bool = False
    """True when the filter matched more than MAX_BULK_RUNS: run the request again for the rest."""

    @property
    def done(self) -> int:
        return sum(1 for outcome in self.outcomes if outcome.done)


def ids_matching(query: RunQuery, now: datetime | None = None) -> tuple[list[int], bool]:
    """The newest MAX_BULK_RUNS runs matching the filters, and whether more match."""
    ids = list(
        matching_runs(query, now)
        .order_by("-created_at", "-pk")
        .values_list("pk", flat=True)[: MAX_BULK_RUNS + 1]
    )
    return ids[:MAX_BULK_RUNS], len(ids) > MAX_BULK_RUNS


def bulk_change(action: str, run_ids: Sequence[int], *, by: str, more: bool = False) -> BulkResult:
    """Cancel or retry each run; `by` (a username) goes into a cancelled run's reason."""
    if action not in ACTIONS:
        raise ValueError(f"action: one of {', '.join(ACTIONS)}")
    change: Callable[[int], Run]
    if action == "cancel":

        def change(run_id: int) -> Run:
            return cancel_run(run_id, reason=f"cancelled by {by} with others from the runs list")

        done = "cancelled"
    else:
        change, done = retry_run, "retried from where it stopped"
    unique = list(dict.fromkeys(run_ids))[:MAX_BULK_RUNS]
    workflows = dict(Run.objects.filter(pk__in=unique).values_list("pk", "workflow"))
    outcomes = []
    for run_id in unique:
        if run_id not in workflows:
            outcomes.append(Outcome(run_id, "", False, "no such run"))
            continue
        try:
            change(run_id)
        except RunStateError as refused:
            outcomes.append(Outcome(run_id, workflows[run_id], False, str(refused)))
        except Run.DoesNotExist:
            outcomes.append(Outcome(run_id, workflows[run_id], False, "no such run"))
        else:
            outcomes.append(Outcome(run_id, workflows[run_id], True, done))
    return BulkResult(outcomes, more)
