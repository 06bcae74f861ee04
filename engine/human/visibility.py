"""Who may know a task exists: the same answer for reading it and for acting on it."""

from django.contrib.auth.models import User

from accounts.roles import Capability, can
from engine.human.delegation import delegators_of
from engine.human.tasks import is_assignee
from engine.models import HumanTask


def seen_by(task: HumanTask, user: User) -> bool:
    """Whether `user` may know the task exists: one of its assignees, a delegate of one, or an
    operator (who reassigns tasks). Everyone else is told there is no such task."""
    if can(user, Capability.REASSIGN_TASKS) or is_assignee(task, user):
        return True
    return any(is_assignee(task, other) for other in delegators_of(user, task.run.workflow))


def task_seen_by(task_id: int, user: User) -> bool:
    """seen_by for a task known by its id; False when there is no such task."""
    task = HumanTask.objects.select_related("run").filter(pk=task_id).first()
    return task is not None and seen_by(task, user)
