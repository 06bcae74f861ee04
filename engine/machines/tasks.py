"""People's tasks inside a state machine: a state's entry opens an approval or a review, and the
decision comes back as the instance's `task.<outcome>` event.

A transition is applied in one go, so it never waits for people: the entry action only opens
the task (a journaled step, linked to the instance and the state), and the instance stays in
that state, answering other events, until someone decides. The decision is delivered in the
transaction that settles the task. Leaving the state withdraws a task still open, in the
transaction that commits the move, so nobody is asked what no longer matters.
"""

from collections.abc import Iterable
from typing import Any

from django.db.models import Q, QuerySet

from engine.core.machines import MachineDefinition
from engine.human.tasks import close_task
from engine.models import HumanTask, MachineInstance, TaskStatus


def link_task(task_id: int, instance_id: int, state: str) -> None:
    """Inside the step that opened the task: the instance and state it belongs to."""
    HumanTask.objects.filter(pk=task_id).update(
        machine_instance_id=instance_id, machine_state=state
    )


def withdraw_left_tasks(
    instance: MachineInstance,
    definition: MachineDefinition,
    *,
    run_id: int | None,
    applied: bool,
    exited: Iterable[str],
) -> list[int]:
    """Inside the commit's transaction (the instance locked): withdraw the open tasks of states
    the instance is no longer in — the states it left, or, when the event was not applied, the
    tasks the failed attempt opened. Returns the withdrawn tasks' ids.

    A task someone is deciding right now is skipped (SKIP LOCKED): its decision then arrives as
    an event the new state refuses, which the history shows; waiting for its lock could
    deadlock with that decision, which waits for this instance's lock."""
    tasks = HumanTask.objects.filter(machine_instance=instance, status=TaskStatus.OPEN)
    if not applied:
        tasks = tasks.filter(run_id=run_id) if run_id is not None else tasks.none()
    else:
        active = definition.path(instance.state)
        left = set(exited) - set(active)
        re_entered = set(exited) & set(active)
        tasks = tasks.filter(
            ~Q(machine_state__in=active)
            | Q(machine_state__in=left)
            | (Q(machine_state__in=re_entered) & ~Q(run_id=run_id))
        )
    return _withdraw(tasks)


def withdraw_tasks_of_run(instance: MachineInstance, run_id: int) -> list[int]:
    """The open tasks a run opened for the instance, when that run ended without committing."""
    return _withdraw(
        HumanTask.objects.filter(machine_instance=instance, status=TaskStatus.OPEN, run_id=run_id)
    )


def _withdraw(tasks: QuerySet[HumanTask]) -> list[int]:
    withdrawn = []
    for task in tasks.select_for_update(skip_locked=True).order_by("id"):
        close_task(task.pk, TaskStatus.WITHDRAWN)
        withdrawn.append(task.pk)
    return withdrawn


def open_tasks_of(instance: MachineInstance) -> list[dict[str, Any]]:
    """The instance's open tasks, for the cockpit and GET /api/instances/{id}."""
    return [
        {"id": task.pk, "kind": task.kind, "title": task.title, "state": task.machine_state}
        for task in HumanTask.objects.filter(
            machine_instance=instance, status=TaskStatus.OPEN
        ).order_by("id")
    ]
