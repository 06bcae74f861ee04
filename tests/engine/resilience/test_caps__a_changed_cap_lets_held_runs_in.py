"""Changing a workflow cap lets its held runs in at once, without waiting for a run to end: a
cap raised admits as many as now fit, per key, highest priority first then the oldest, and
sends each to a worker; a cap removed admits them all (one still to start goes when due); a
cap lowered admits and evicts nobody. The same holds when the code's declaration changes. No
worker: the rows and the messages sent are the world."""

from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone

from engine.models import LimitSource, Run, Timer, WorkflowCap
from engine.resilience.priorities import ADMITTED, HELD, delete_caps, save_cap
from engine.runtime.runs import create_run
from engine.runtime.sweepers import fire_due_timers

pytestmark = [
    pytest.mark.django_db(transaction=True),
    # Nobody advances these runs while the test looks at them.
    pytest.mark.usefixtures("queue_to_ourselves"),
]

WORKFLOW = "test-uncapped"  # no cap in code: the operator's cap below is the only one


def start(label: str, priority: int = 0, workflow: str = WORKFLOW, **input: Any) -> Run:
    with transaction.atomic():
        return create_run(
            workflow, {"url": "http://127.0.0.1:9/", "label": label, **input}, priority=priority
        )


def states(*runs: Run) -> dict[str, tuple[str, str, bool]]:
    """Each run's (status, admission, whether it was sent), by label."""
    found = Run.objects.filter(pk__in=[run.pk for run in runs])
    return {
        run.input["label"]: (run.status, run.admission, run.dispatched_at is not None)
        for run in found
    }


def held_behind_a_cap_of_one(*queued: tuple[str, int]) -> tuple[WorkflowCap, Run, list[Run]]:
    cap = WorkflowCap.objects.create(workflow=WORKFLOW, max_active=1)
    blocker = start("blocker")
    held = [start(label, priority) for label, priority in queued]
    assert {run.admission for run in held} == {HELD}
    return cap, blocker, held


def test_a_raised_cap_admits_what_now_fits_by_priority_then_age(published: list[int]) -> None:
    cap, blocker, held = held_behind_a_cap_of_one(
        ("low", -5), ("middle", 0), ("high", 10), ("middle-later", 0), ("urgent", 50)
    )
    _, middle, high, _, urgent = held
    published.clear()

    cap.max_active = 4
    assert save_cap(cap) == 3

    assert states(blocker, *held) == {
        "blocker": ("pending", ADMITTED, True),
        "urgent": ("pending", ADMITTED, True),
        "high": ("pending", ADMITTED, True),
        "middle": ("pending", ADMITTED, True),
        "middle-later": ("pending", HELD, False),
        "low": ("pending", HELD, False),
    }
    assert published == [urgent.pk, high.pk, middle.pk]
    assert WorkflowCap.objects.get(workflow=WORKFLOW).max_active == 4
    # The cap is full again: a new run waits its turn behind the held ones.
    assert start("newcomer", 100).admission == HELD


def test_a_raised_cap_per_key_admits_within_each_key(published: list[int]) -> None:
    cap = WorkflowCap.objects.create(workflow=WORKFLOW, max_active=1, key_field="customer")
    a = [start(f"a{n}", priority, customer="a") for n, priority in enumerate([0, 0, 5, 9])]
    b = [start(f"b{n}", customer="b") for n in range(2)]
    c = [start("c0", customer="c")]
    published.clear()

    cap.max_active = 3
    assert save_cap(cap) == 3

    assert states(*a, *b, *c) == {
        "a0": ("pending", ADMITTED, True),
        "a1": ("pending", HELD, False),
        "a2": ("pending", ADMITTED, True),
        "a3": ("pending", ADMITTED, True),
        "b0": ("pending", ADMITTED, True),
        "b1": ("pending", ADMITTED, True),
        "c0": ("pending", ADMITTED, True),
    }
    assert published == [a[3].pk, a[2].pk, b[1].pk]


def test_a_lowered_cap_evicts_nobody_and_counts_them_when_raised_again(
    published: list[int],
) -> None:
    cap = WorkflowCap.objects.create(workflow=WORKFLOW, max_active=3)
    moving = [start(f"moving{n}") for n in range(3)]
    held = [start(f"held{n}") for n in range(3)]
    sent_at = dict(
        Run.objects.filter(pk__in=[run.pk for run in moving]).values_list("pk", "dispatched_at")
    )
    published.clear()

    cap.max_active = 1
    assert save_cap(cap) == 0
    assert {label: state[1] for label, state in states(*moving, *held).items()} == {
        "moving0": ADMITTED,
        "moving1": ADMITTED,
        "moving2": ADMITTED,
        "held0": HELD,
        "held1": HELD,
        "held2": HELD,
    }
    assert dict(Run.objects.filter(pk__in=sent_at).values_list("pk", "dispatched_at")) == sent_at
    assert published == []

    # The three still moving count against the new limit: raised to 5, two places are free.
    cap.max_active = 5
    assert save_cap(cap) == 2
    assert published == [held[0].pk, held[1].pk]
    assert states(held[2])["held2"] == ("pending", HELD, False)


def test_a_removed_cap_admits_every_held_run_and_a_scheduled_one_goes_when_due(
    published: list[int],
) -> None:
    _, blocker, held = held_behind_a_cap_of_one(("first", 0), ("urgent", 50), ("last", -1))
    first, urgent, last = held
    with transaction.atomic():
        later = create_run(
            WORKFLOW,
            {"url": "http://127.0.0.1:9/", "label": "later"},
            start_at=timezone.now() + timedelta(minutes=5),
        )
    assert (later.status, later.admission) == ("scheduled", HELD)
    published.clear()

    assert delete_caps([WORKFLOW]) == 3

    assert not WorkflowCap.objects.filter(workflow=WORKFLOW).exists()
    assert states(blocker, *held, later) == {
        "blocker": ("pending", ADMITTED, True),
        "urgent": ("pending", ADMITTED, True),
        "first": ("pending", ADMITTED, True),
        "last": ("pending", ADMITTED, True),
        "later": ("scheduled", ADMITTED, False),
    }
    assert published == [urgent.pk, first.pk, last.pk]

    Timer.objects.filter(run=later).update(due_at=timezone.now())
    fire_due_timers()
    assert states(later)["later"] == ("pending", ADMITTED, True)
    assert published[-1] == later.pk


def test_a_cap_moved_to_another_workflow_frees_the_one_it_left(published: list[int]) -> None:
    cap, _, held = held_behind_a_cap_of_one(("one", 0), ("two", 0))
    published.clear()

    cap.workflow = "test-sequence"
    assert save_cap(cap) == 2

    assert states(*held) == {
        "one": ("pending", ADMITTED, True),
        "two": ("pending", ADMITTED, True),
    }
    assert published == [run.pk for run in held]


def test_a_raised_or_removed_declaration_admits_at_the_next_start(published: list[int]) -> None:
    # Runs held while the code declared a lower cap (test-flood now declares 2).
    WorkflowCap.objects.create(workflow="test-flood", max_active=1)
    flood = [start(f"f{n}", workflow="test-flood") for n in range(3)]
    WorkflowCap.objects.filter(workflow="test-flood").update(source=LimitSource.DECLARED)
    # And held while the code declared a cap it no longer declares.
    WorkflowCap.objects.create(workflow=WORKFLOW, max_active=1)
    _, *gone = [start(f"u{n}") for n in range(3)]
    WorkflowCap.objects.filter(workflow=WORKFLOW).update(source=LimitSource.DECLARED)
    published.clear()

    newcomer = start("f3", workflow="test-flood")
    assert WorkflowCap.objects.get(workflow="test-flood").max_active == 2
    assert states(*flood) == {
        "f0": ("pending", ADMITTED, True),
        "f1": ("pending", ADMITTED, True),
        "f2": ("pending", HELD, False),
    }
    assert newcomer.admission == HELD  # f0 and f1 move: the cap of two is full
    assert published == [flood[1].pk]

    uncapped = start("u3")
    assert uncapped.admission == ""
    assert states(*gone) == {
        "u1": ("pending", ADMITTED, True),
        "u2": ("pending", ADMITTED, True),
    }
    assert published[1:] == [*(run.pk for run in gone), uncapped.pk]
