"""What the run page's actions offer one user: controls their roles allow for the run's state,
the positions a fork may start from, the events it waits for, the tasks they may decide."""

import json
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.utils import timezone

from accounts.roles import Capability, capabilities_of
from engine.core.journal import EntryKind
from engine.models import (
    TERMINAL_STATUSES,
    HumanTask,
    Run,
    RunStatus,
    StepRecord,
    TaskStatus,
    Wait,
    WaitStatus,
)
from engine.runtime.runs import RETRYABLE_STATUSES
from monitoring.task_page import TaskPage, task_page

MAX_FORK_POSITIONS = 500
"""Positions offered in the fork form; a longer journal is forked through the API."""


@dataclass(frozen=True)
class ForkPosition:
    seq: int
    name: str
    kind: str
    status: str


@dataclass(frozen=True)
class EventWait:
    """One open wait: the event type the run waits for and what the event must carry."""

    event_type: str
    match: dict[str, Any] | None
    filter: str
    deadline: Any

    @property
    def match_json(self) -> str:
        return json.dumps(self.match or {}, indent=2, sort_keys=True)


@dataclass(frozen=True)
class RunActions:
    run: Run
    may_pause: bool = False
    may_resume: bool = False
    may_cancel: bool = False
    may_retry: bool = False
    may_rerun: bool = False
    may_fork: bool = False
    may_send_event: bool = False
    fork_positions: list[ForkPosition] = field(default_factory=list)
    fork_default: int | None = None
    waits: list[EventWait] = field(default_factory=list)
    tasks: list[TaskPage] = field(default_factory=list)
    forks: list[Run] = field(default_factory=list)

    @property
    def input_json(self) -> str:
        return json.dumps(self.run.input, indent=2, sort_keys=True)

    @property
    def any_control(self) -> bool:
        return any(
            (self.may_pause, self.may_resume, self.may_cancel, self.may_retry, self.may_rerun)
        )


def run_actions(run: Run, user: User | AnonymousUser) -> RunActions:
    granted = capabilities_of(user)
    if Capability.VIEW not in granted:
        return RunActions(run)
    ended = run.status in TERMINAL_STATUSES
    may_start = Capability.START_RUNS in granted
    may_stop = Capability.CANCEL_RUNS in granted
    # One query for the lineage; the original is shown by its number alone.
    forks = list(Run.objects.filter(forked_from=run).only("pk", "status").order_by("-pk")[:20])
    positions = _fork_positions(run) if ended and may_start else []
    waits = _event_waits(run) if run.status == RunStatus.WAITING else []
    machine_run = run.trigger == "machine"
    return RunActions(
        run=run,
        may_pause=may_stop and not ended and run.status not in (RunStatus.PAUSED, "cancelling"),
        may_resume=may_stop and run.status == RunStatus.PAUSED,
        may_cancel=may_stop and not ended,
        may_retry=Capability.RETRY_RUNS in granted and run.status in RETRYABLE_STATUSES,
        may_rerun=may_start and not machine_run,
        may_fork=bool(positions) and not machine_run,
        may_send_event=may_start and bool(waits),
        fork_positions=positions,
        fork_default=run.stopped_at if run.stopped_at is not None else None,
        waits=waits,
        # Only a run that is waiting (or paused in its wait) has open tasks.
        tasks=_decidable_tasks(run, user)
        if isinstance(user, User) and run.status in (RunStatus.WAITING, RunStatus.PAUSED)
        else [],
        forks=forks,
    )


def _fork_positions(run: Run) -> list[ForkPosition]:
    """The run's own positions up to where it stopped: each is a place a fork may start."""
    records = StepRecord.objects.filter(run=run, branch=0, superseded=False)
    if run.stopped_at is not None:
        records = records.filter(seq__lte=run.stopped_at)
    latest: dict[int, ForkPosition] = {}
    for seq, name, kind, status in records.order_by("seq", "attempt").values_list(
        "seq", "name", "kind", "status"
    )[: MAX_FORK_POSITIONS * 4]:
        if kind in (EntryKind.VALUE, EntryKind.CANCEL):
            continue  # not a step anyone would fork from
        latest[seq] = ForkPosition(seq, name, kind, status)
    return list(latest.values())[:MAX_FORK_POSITIONS]


def _event_waits(run: Run) -> list[EventWait]:
    waits = Wait.objects.filter(run=run, status=WaitStatus.WAITING).order_by("seq", "event_type")
    return [
        EventWait(wait.event_type, wait.match, wait.filter, wait.deadline) for wait in waits[:20]
    ]


def _decidable_tasks(run: Run, user: User) -> list[TaskPage]:
    """The run's open tasks this user may decide now (the inbox's own rule, engine.human)."""
    now = timezone.now()
    tasks = HumanTask.objects.filter(run=run, status=TaskStatus.OPEN).select_related("run")
    pages = (task_page(task, user, now) for task in tasks.order_by("created_at", "pk")[:20])
    return [page for page in pages if page.may_decide]
