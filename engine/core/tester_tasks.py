"""People's tasks for WorkflowTester: `approval()` and `review()` without a database.

The tester fakes the task steps of engine.core.human with a desk of in-memory tasks that a
test decides (`tester.decide(...)`), at once or later on the virtual clock, by the same rules
the inbox applies.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from engine.core.context import current_step
from engine.core.human import escalate_task, expire_task, open_task, remind_task, withdraw_task
from engine.core.task_forms import clean_form

DECIDED = ("approved", "changes", "rejected")
CHOICES = {"approval": ("approved", "rejected"), "review": ("approved", "changes", "rejected")}


@dataclass
class TestTask:
    """A task a tested run opened."""

    __test__ = False

    id: int
    run_id: int
    name: str
    kind: str
    title: str
    data: dict[str, Any]
    assignees: dict[str, Any]
    required: int
    requester: str | None = None
    distinct_from: tuple[str, ...] = ()
    any_rejection_rejects: bool = True
    form: dict[str, Any] = field(default_factory=dict)
    comment_required: tuple[str, ...] = ()
    status: str = "open"
    decisions: list[dict[str, Any]] = field(default_factory=list)
    reminded: int = 0
    escalated_to: dict[str, Any] | None = None

    def outcome(self) -> dict[str, Any]:
        return {
            "task": self.id,
            "outcome": self.status if self.status in DECIDED else "timeout",
            "decisions": list(self.decisions),
        }


@dataclass
class _PlannedDecision:
    name: str
    decision: str
    by: str
    comment: str
    at: datetime
    run_id: int | None
    form: dict[str, Any] | None = None
    done: bool = False


class TaskDesk:
    """The tester's tasks, and the decisions a test planned for them."""

    def __init__(self, clock: Callable[[], datetime], settled: Callable[[TestTask], None]):
        self.tasks: list[TestTask] = []
        self._clock = clock
        self._settled = settled
        self._planned: list[_PlannedDecision] = []
        self.refused: list[tuple[str, str]] = []
        """(task name, person) of planned decisions by someone the task was not assigned to."""

    def fakes(self) -> dict[str, Callable[..., Any]]:
        """The task steps, by key, as the tester replaces them."""
        return {
            open_task.key: self._open,
            remind_task.key: self._remind,
            escalate_task.key: self._escalate,
            expire_task.key: lambda task_id: self._close(task_id, "timed_out"),
            withdraw_task.key: lambda task_id: self._close(task_id, "withdrawn"),
        }

    def get(self, task_id: int) -> TestTask:
        return next(task for task in self.tasks if task.id == task_id)

    def plan(
        self,
        name: str,
        decision: str,
        *,
        by: str,
        comment: str,
        after: timedelta,
        run_id: int | None,
        form: dict[str, Any] | None = None,
    ) -> None:
        self._planned.append(
            _PlannedDecision(name, decision, by, comment, self._clock() + after, run_id, form)
        )

    def next_moment(self) -> datetime | None:
        pending = [planned.at for planned in self._planned if not planned.done]
        return min(pending, default=None)

    def decide_due(self) -> None:
        """Take the planned decisions that are due, once their task exists."""
        for planned in self._planned:
            if planned.done or planned.at > self._clock():
                continue
            task = next(
                (
                    task
                    for task in self.tasks
                    if task.name == planned.name
                    and task.status == "open"
                    and planned.run_id in (None, task.run_id)
                    and all(decision["user"] != planned.by for decision in task.decisions)
                ),
                None,
            )
            if task is None:
                continue
            planned.done = True
            if not _assigned(task, planned.by) or self._four_eyes(task, planned.by):
                self.refused.append((task.name, planned.by))
                continue
            self.decide(task, planned.decision, planned.by, planned.comment, planned.form)

    def decide(
        self,
        task: TestTask,
        decision: str,
        by: str,
        comment: str,
        form: dict[str, Any] | None = None,
    ) -> None:
        """Decide as the inbox would, refusing what it refuses (ValueError naming the field)."""
        if decision not in CHOICES[task.kind]:
            raise ValueError(f"a {task.kind} is decided {' or '.join(CHOICES[task.kind])}")
        if decision in task.comment_required and not comment.strip():
            raise ValueError(f"comment: say why ({decision} needs a comment)")
        values = clean_form(task.form, form or {}) if decision == "approved" else {}
        task.decisions.append(
            {
                "user": by,
                "decided_by": None,
                "decision": decision,
                "comment": comment,
                "form": values,
                "decided_at": self._clock().isoformat(),
            }
        )
        outcome = _outcome(task)
        if outcome is not None:
            task.status = outcome
            self._settled(task)

    def _four_eyes(self, task: TestTask, person: str) -> bool:
        """The engine's four-eyes rule: the requester, and whoever decided a `distinct_from`
        stage of the same run, may not decide."""
        if person == task.requester:
            return True
        return any(
            other.run_id == task.run_id
            and other.name in task.distinct_from
            and any(decision["user"] == person for decision in other.decisions)
            for other in self.tasks
        )

    def _open(self, **options: Any) -> dict[str, Any]:
        info = current_step()
        assert info is not None
        for task in self.tasks:
            if task.run_id == info.run_id and task.name == info.name:
                return {"task": task.id}  # a retried attempt finds the task it opened
        task = TestTask(
            id=len(self.tasks) + 1,
            run_id=info.run_id,
            name=info.name,
            kind=options["kind"],
            title=options["title"],
            data=dict(options.get("data") or {}),
            assignees=dict(options["assignees"]),
            required=int(options.get("required", 1)),
            requester=options.get("requester"),
            distinct_from=tuple(options.get("distinct_from") or ()),
            any_rejection_rejects=bool(options.get("any_rejection_rejects", True)),
            form=dict(options.get("form") or {}),
            comment_required=tuple(options.get("comment_required") or ()),
        )
        self.tasks.append(task)
        return {"task": task.id}

    def _remind(self, task_id: int) -> dict[str, Any]:
        self.get(task_id).reminded += 1
        return {"task": task_id, "reminded": list(self.get(task_id).assignees.get("users", []))}

    def _escalate(self, task_id: int, people: dict[str, Any]) -> dict[str, Any]:
        self.get(task_id).escalated_to = people
        return {"task": task_id, "escalated_to": people}

    def _close(self, task_id: int, status: str) -> dict[str, Any]:
        task = self.get(task_id)
        if task.status == "open":
            task.status = status
        return {"task": task_id, "status": task.status}


def _assigned(task: TestTask, person: str) -> bool:
    """Named users must be among the task's users; a task for groups takes anyone (the harness
    knows no groups)."""
    return bool(task.assignees.get("groups")) or person in task.assignees.get("users", [])


def _outcome(task: TestTask) -> str | None:
    decisions = [decision["decision"] for decision in task.decisions]
    if task.kind == "approval":
        if decisions.count("approved") >= task.required:
            return "approved"
        if "rejected" in decisions and task.any_rejection_rejects:
            return "rejected"
        return None
    if len(decisions) < task.required:
        return None
    if "rejected" in decisions:
        return "rejected"
    return "changes" if "changes" in decisions else "approved"
