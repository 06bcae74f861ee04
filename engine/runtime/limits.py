"""Limits on runaway work: how deep children nest, how many children one run starts, and how
many runs a workflow starts in a minute. Each is a setting; each refusal names it.

A graph that starts itself as a child, or twice on every schedule fire, grows without end
(exponentially, in the second case); these limits end it with an error people can read instead.
"""

import functools
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings

from engine.core.errors import NonRetryableError
from engine.core.journal import EntryKind
from engine.models import Run, RunStatus, StepRecord
from engine.models.prepared import QueryTemplate, query_template

__all__ = [
    "REFUSED",
    "UNRATED_TRIGGERS",
    "RunLimitExceeded",
    "check_child_start",
    "rate_refusal",
    "was_refused",
]

REFUSED = "RunLimitExceeded"
"""The error type of a run refused by a limit (runs refused by the rate limit are created
failed with it, and do not count against the rate)."""


UNRATED_TRIGGERS = frozenset({"child", "machine"})
"""Starts the rate does not count: children have limits of their own (depth, per run), and a
machine's event runs apply events its instances already received (refusing one would strand
the instance's queue)."""


class RunLimitExceeded(NonRetryableError):
    """Starting a run would pass a limit on runaway work; the message names the setting."""


def check_child_start(parent: Run) -> int:
    """Raise RunLimitExceeded when the parent may start no more children; else the child's depth.

    Called inside the parent's journal write, so the refusal starts nothing and fails the parent.
    """
    depth = parent.depth + 1
    most_deep = settings.STEPWISE_MAX_CHILD_DEPTH
    if depth > most_deep:
        raise RunLimitExceeded(
            f"run {parent.pk} ({parent.workflow}) would start a child {depth} levels deep; "
            f"the limit is STEPWISE_MAX_CHILD_DEPTH={most_deep}"
        )
    most_children = settings.STEPWISE_MAX_CHILDREN_PER_RUN
    # The journal counts detached children too, which have no parent link.
    started = StepRecord.objects.filter(
        run_id=parent.pk, kind=EntryKind.CHILD_START, superseded=False
    )[:most_children].count()
    if started >= most_children:
        raise RunLimitExceeded(
            f"run {parent.pk} ({parent.workflow}) has started {started} children; "
            f"the limit is STEPWISE_MAX_CHILDREN_PER_RUN={most_children}"
        )
    return depth


def under_rate_condition(workflow: str, now: datetime) -> tuple[str, list[Any]] | None:
    """rate_refusal's count as SQL, true while a run started now passes: one condition of the
    statement that starts a run at once (engine.runtime.at_once). None when no limit applies."""
    limit = settings.STEPWISE_MAX_RUNS_PER_MINUTE
    if limit <= 0:
        return None
    template = _recent_runs_template(limit)
    params = template.bind(workflow=workflow, since=now - timedelta(minutes=1))
    # The ORM compiled the subquery; the limit is an int from the settings.
    return f"(SELECT count(*) FROM ({template.sql}) AS recent) < {int(limit)}", params  # noqa: S608


def _recent_runs(workflow: str, now: datetime, limit: int) -> Any:
    return (
        Run.objects.filter(workflow=workflow, created_at__gt=now - timedelta(minutes=1))
        .exclude(status=RunStatus.FAILED, error__type=REFUSED)
        .values("pk")[:limit]
    )


@functools.lru_cache(maxsize=4)
def _recent_runs_template(limit: int) -> QueryTemplate:
    """Compiled once per limit; the workflow and the moment are bound per start."""
    workflow, since = "<any workflow>", datetime(2000, 1, 1, tzinfo=UTC)
    queryset = _recent_runs(workflow, since + timedelta(minutes=1), limit)
    return query_template(queryset, workflow=workflow, since=since)


def was_refused(run: Run) -> bool:
    """Whether the rate limit refused this run when it was created."""
    return run.status == RunStatus.FAILED and (run.error or {}).get("type") == REFUSED


def rate_refusal(workflow: str, now: datetime) -> dict[str, Any] | None:
    """The error of a run of this workflow started now, when a minute has had enough of them.

    Counted in the database (the same answer in every process), over the minute up to now.
    Two processes starting at the same instant may both pass the last free place: the limit
    is a brake on runaway work, not an exact quota.
    """
    limit = settings.STEPWISE_MAX_RUNS_PER_MINUTE
    if limit <= 0:
        return None
    if _recent_runs(workflow, now, limit).count() < limit:
        return None
    return {
        "type": REFUSED,
        "message": (
            f"{workflow} started {limit} runs in the last minute; the limit is "
            f"STEPWISE_MAX_RUNS_PER_MINUTE={limit}: this run was refused and never ran"
        ),
    }
