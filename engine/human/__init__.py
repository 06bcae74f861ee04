"""Human tasks: approvals and reviews a run waits for, decided only by their assignees.

tasks: the lifecycle (open, remind, escalate, reassign, close). deciding: claims, decisions,
and settling a task together with the run that waits on it. standing: who may act and why not
(assignees, claims, delegation, four-eyes). delegation: out-of-office rules. audit: the history
of every task. queries: whose inbox holds what. notify, tokens, links: the task e-mails and
their one-click decision links. service: the task steps of engine.core.human.
"""

from engine.human.choices import DECIDED, DECISIONS
from engine.human.deciding import (
    claim_task,
    complete_task_waits,
    decide_task,
    settle_task_wait,
    task_outcome,
    unclaim_task,
)
from engine.human.delegation import delegators_of, end_delegation, set_delegation
from engine.human.queries import tasks_for
from engine.human.service import DjangoTaskService
from engine.human.standing import Standing, four_eyes_problem, standing
from engine.human.tasks import (
    Assignees,
    TaskError,
    UnknownAssignee,
    cancel_open_tasks,
    close_task,
    escalate,
    is_assignee,
    mark_reminded,
    open_run_tasks,
    open_task,
    reassign,
    reopen_cancelled_tasks,
)

__all__ = [
    "DECIDED",
    "DECISIONS",
    "Assignees",
    "DjangoTaskService",
    "Standing",
    "TaskError",
    "UnknownAssignee",
    "cancel_open_tasks",
    "claim_task",
    "close_task",
    "complete_task_waits",
    "decide_task",
    "delegators_of",
    "end_delegation",
    "escalate",
    "four_eyes_problem",
    "is_assignee",
    "mark_reminded",
    "open_run_tasks",
    "open_task",
    "reassign",
    "reopen_cancelled_tasks",
    "set_delegation",
    "settle_task_wait",
    "standing",
    "task_outcome",
    "tasks_for",
    "unclaim_task",
]
