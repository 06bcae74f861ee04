"""A decision on a state's task becomes the instance's event, in the transaction that settles
the task (registered as a settled-task hook by engine.apps)."""

from engine.core.machines import TASK_EVENT_PREFIX
from engine.human.deciding import task_outcome
from engine.machines.instances import send_internal_event
from engine.models import HumanTask, TaskDecision, TaskStatus

OUTCOME_EVENTS = {
    TaskStatus.APPROVED: f"{TASK_EVENT_PREFIX}approved",
    TaskStatus.REJECTED: f"{TASK_EVENT_PREFIX}rejected",
    TaskStatus.CHANGES: f"{TASK_EVENT_PREFIX}changes",
}


def deliver_decision(task: HumanTask) -> None:
    """The settled-task hook: queue the decision as the instance's event (idempotent by task)."""
    event = OUTCOME_EVENTS.get(TaskStatus(task.status))
    if task.machine_instance_id is None or event is None:
        return
    last = TaskDecision.objects.filter(task=task).order_by("-decided_at", "-id").first()
    send_internal_event(
        task.machine_instance_id,
        event,
        task_outcome(task),
        event_id=f"task:{task.pk}",
        actor=(last.decided_by or last.user) if last else None,
        source="task",
    )
