"""Bulkheads kept in the database: at most N steps use a named resource at once, across every
worker and run.

A step takes a slot by writing a `holding` row under its bulkhead's row lock, which orders
every entry and release of that bulkhead. A full bulkhead gets a `waiting` row instead and the
step's run suspends, holding no worker (a parallel step's task simply returns). A release
hands the freed slots to the waiters in order (priority, then arrival) and wakes their runs or
sends their parallel steps again. A holder renews its lease while the step runs; a worker that
dies stops renewing, and the slot lapses: the sweeper (and any later entry) no longer counts it.

Rows are keyed by step position (run, seq, branch), so a redelivered or replayed step finds its
own slot again instead of taking a second one.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import close_old_connections, connections, transaction
from django.db.models import Count, Max, Q
from django.utils import timezone

from engine.core.bulkheads import Bulkhead as BulkheadSpec
from engine.core.journal import Position
from engine.core.keepers import LeaseKeeper
from engine.messaging.dispatch import run_branch_on_commit, wake
from engine.models import (
    TERMINAL_STATUSES,
    Bulkhead,
    BulkheadSlot,
    LimitSource,
    Run,
    SlotState,
)

__all__ = ["DatabaseGate", "enter", "leave", "release_lapsed_slots"]

logger = logging.getLogger(__name__)


def _lease_seconds() -> float:
    return float(settings.STEPWISE_LEASE_SECONDS)


def _grant_seconds() -> float:
    """How long a woken waiter keeps the slot handed to it before it starts its step."""
    return max(float(settings.STEPWISE_BULKHEAD_GRANT_SECONDS), _lease_seconds())


def _renew_slots(held: dict[tuple[int, int, int, int], int]) -> None:
    try:
        close_old_connections()
        BulkheadSlot.objects.filter(pk__in=list(held.values()), state=SlotState.HOLDING).update(
            lease_until=timezone.now() + timedelta(seconds=_lease_seconds())
        )
    except Exception:
        logger.exception("could not renew bulkhead slot leases")


keeper: LeaseKeeper[tuple[int, int, int, int], int] = LeaseKeeper(
    "stepwise-bulkheads",
    lambda: max(0.2, _lease_seconds() / 3),
    _renew_slots,
    retire=connections.close_all,
)
"""The slots this process holds while their steps run: (bulkhead, run, seq, branch) → slot."""


def _locked(spec: BulkheadSpec) -> Bulkhead:
    """The bulkhead's row, locked; created on first use, its limit kept to the declaration
    unless an operator set it in the admin."""
    rows = Bulkhead.objects.select_for_update()
    bulkhead = rows.filter(name=spec.name).first()
    if bulkhead is None:
        limit = spec.max_concurrent or settings.STEPWISE_BULKHEAD_DEFAULT_MAX
        Bulkhead.objects.get_or_create(name=spec.name, defaults={"max_concurrent": limit})
        return rows.get(name=spec.name)
    declared = spec.max_concurrent
    stale = declared is not None and bulkhead.max_concurrent != declared
    if stale and bulkhead.source != LimitSource.ADMIN:
        assert declared is not None
        bulkhead.max_concurrent = declared
        bulkhead.save(update_fields=["max_concurrent", "updated_at"])
    return bulkhead


@dataclass(frozen=True)
class _Usage:
    holding: int
    waiting: int
    mine: str | None
    """This position's own row: holding (a live slot), waiting, lapsed, or None."""


def _usage(bulkhead: Bulkhead, run_id: int, seq: int, branch: int, now: datetime) -> _Usage:
    """One query: live holders and waiters besides this position, and its own row."""
    mine = Q(run_id=run_id, seq=seq, branch=branch)
    live = Q(state=SlotState.HOLDING, lease_until__gte=now)
    found = BulkheadSlot.objects.filter(bulkhead=bulkhead).aggregate(
        holding=Count("pk", filter=live & ~mine),
        waiting=Count("pk", filter=Q(state=SlotState.WAITING) & ~mine),
        mine=Max("state", filter=mine),
        mine_live=Count("pk", filter=mine & live),
    )
    state = found["mine"]
    if state == SlotState.HOLDING and not found["mine_live"]:
        state = "lapsed"
    return _Usage(found["holding"], found["waiting"], state)


def enter(run_id: int, seq: int, branch: int, spec: BulkheadSpec) -> bool:
    """Take a slot for this step (True), or queue for one (False: the caller stops)."""
    now = timezone.now()
    where = {"run_id": run_id, "seq": seq, "branch": branch}
    with transaction.atomic():
        bulkhead = _locked(spec)
        usage = _usage(bulkhead, run_id, seq, branch, now)
        free = usage.holding < bulkhead.max_concurrent
        lease = {"lease_until": now + timedelta(seconds=_lease_seconds())}
        mine = BulkheadSlot.objects.filter(bulkhead=bulkhead, **where)
        slot_id: int | None = None
        if usage.mine == SlotState.HOLDING:
            # Its own slot: granted while it waited, or held before a redelivery.
            mine.update(**lease)
        elif usage.mine is None and free and not usage.waiting:
            # A free slot nobody queues for: the common path, one row written.
            slot_id = BulkheadSlot.objects.create(
                bulkhead=bulkhead,
                **where,
                state=SlotState.HOLDING,
                queued_at=now,
                granted_at=now,
                **lease,
            ).pk
        else:
            if usage.mine == "lapsed":
                # Its worker died holding the slot: the step queues again, behind the others.
                mine.update(state=SlotState.WAITING, queued_at=now, lease_until=None)
            elif usage.mine is None:
                priority = Run.objects.values_list("priority", flat=True).get(pk=run_id)
                BulkheadSlot.objects.create(
                    bulkhead=bulkhead,
                    **where,
                    state=SlotState.WAITING,
                    priority=priority,
                    queued_at=now,
                )
            # Capacity may be free behind the queue (a lapsed holder): serve it in order.
            if (run_id, seq, branch) not in _grant(bulkhead, now, skip=(run_id, seq, branch)):
                return False
            mine.update(**lease)
        if slot_id is None:
            slot_id = mine.values_list("pk", flat=True).get()
    keeper.hold((bulkhead.pk, run_id, seq, branch), slot_id)
    return True


def leave(run_id: int, seq: int, branch: int, spec: BulkheadSpec) -> None:
    """Give the step's slot back and hand it to the next waiter."""
    now = timezone.now()
    with transaction.atomic():
        bulkhead = Bulkhead.objects.select_for_update().filter(name=spec.name).first()
        if bulkhead is None:
            return
        keeper.release((bulkhead.pk, run_id, seq, branch))
        mine = BulkheadSlot.objects.filter(bulkhead=bulkhead, run_id=run_id, seq=seq, branch=branch)
        mine.delete()
        _grant(bulkhead, now)


def _grant(
    bulkhead: Bulkhead, now: datetime, skip: tuple[int, int, int] | None = None
) -> set[tuple[int, int, int]]:
    """Under the bulkhead's lock: hand free slots to the first waiters and wake them.

    `skip` is the caller's own position: it goes on by itself, it needs no wake.
    """
    # The first waiters (the whole limit at most), then the room for them: when nobody
    # waits, as after most releases, that is one query.
    waiters = list(
        BulkheadSlot.objects.filter(bulkhead=bulkhead, state=SlotState.WAITING)
        .exclude(run__status__in=TERMINAL_STATUSES)
        .order_by("-priority", "queued_at", "pk")
        .values_list("pk", "run_id", "seq", "branch")[: bulkhead.max_concurrent]
    )
    if not waiters:
        return set()
    live = BulkheadSlot.objects.filter(
        bulkhead=bulkhead, state=SlotState.HOLDING, lease_until__gte=now
    ).count()
    waiters = waiters[: max(0, bulkhead.max_concurrent - live)]
    if not waiters:
        return set()
    BulkheadSlot.objects.filter(pk__in=[pk for pk, *_ in waiters]).update(
        state=SlotState.HOLDING,
        granted_at=now,
        lease_until=now + timedelta(seconds=_grant_seconds()),
    )
    granted = set()
    for _, run_id, seq, branch in waiters:
        granted.add((run_id, seq, branch))
        if (run_id, seq, branch) == skip:
            continue
        if branch:
            run_branch_on_commit(run_id, seq, branch)
        else:
            wake(run_id)
    return granted


def release_lapsed_slots() -> int:
    """Sweeper: drop slots whose holders stopped renewing (their worker died) and waiters of
    ended runs, and hand the freed slots on. Returns how many slots were dropped."""
    now = timezone.now()
    lapsed = Q(state=SlotState.HOLDING, lease_until__lt=now) | Q(
        state=SlotState.WAITING, run__status__in=TERMINAL_STATUSES
    )
    names = set(BulkheadSlot.objects.filter(lapsed).values_list("bulkhead_id", flat=True)[:200])
    dropped = 0
    for bulkhead_id in names:
        with transaction.atomic():
            bulkhead = (
                Bulkhead.objects.select_for_update(skip_locked=True).filter(pk=bulkhead_id).first()
            )
            if bulkhead is None:
                continue  # another sweeper or a release has it now
            dropped += BulkheadSlot.objects.filter(lapsed, bulkhead=bulkhead).delete()[0]
            _grant(bulkhead, now)
    return dropped


class DatabaseGate:
    """The core's bulkhead gate (engine.core.bulkheads) on these tables."""

    def enter(self, run_id: int, position: Position, bulkhead: BulkheadSpec) -> bool:
        return enter(run_id, position.seq, position.branch, bulkhead)

    def leave(self, run_id: int, position: Position, bulkhead: BulkheadSpec) -> None:
        leave(run_id, position.seq, position.branch, bulkhead)
