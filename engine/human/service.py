"""What the task steps of engine.core.human do, in the database."""

from datetime import timedelta
from typing import Any

from django.utils import timezone

from engine.core.calendar import business_calendar
from engine.core.errors import NonRetryableError
from engine.human.notify import reminded_on_commit
from engine.human.people import still_to_answer
from engine.human.tasks import (
    Assignees,
    UnknownAssignee,
    close_task,
    escalate,
    mark_reminded,
    open_task,
)
from engine.models import HumanTask, TaskKind, TaskStatus


class DjangoTaskService:
    """Tasks in the database, for the steps of `approval()`, `review()` and the human nodes."""

    def open(
        self,
        *,
        run_id: int,
        step_name: str,
        kind: str,
        title: str,
        description: str,
        data: dict[str, Any],
        assignees: dict[str, Any],
        required: int,
        timeout_seconds: float | None,
        requester: str | None = None,
        distinct_from: list[str] | None = None,
        any_rejection_rejects: bool = True,
        form: dict[str, Any] | None = None,
        comment_required: list[str] | None = None,
        clock: dict[str, Any] | None = None,
    ) -> int:
        now = timezone.now()
        settings = clock or {}
        calendar = business_calendar(settings["calendar"]) if settings.get("calendar") else None
        due_at = None
        if timeout_seconds:
            due_at = (
                calendar.add(now, timeout_seconds)
                if calendar
                else now + timedelta(seconds=timeout_seconds)
            )
        try:
            task = open_task(
                run_id=run_id,
                step_name=step_name,
                kind=TaskKind(kind),
                title=title,
                description=description,
                data=data,
                assignees=Assignees.from_config(assignees),
                required=required,
                due_at=due_at,
                requester=requester,
                distinct_from=distinct_from or (),
                any_rejection_rejects=any_rejection_rejects,
                form=form,
                comment_required=comment_required or (),
                clock=clock,
            )
        except UnknownAssignee as unknown:
            raise NonRetryableError(str(unknown)) from None
        return int(task.pk)

    def remind(self, task_id: int) -> dict[str, Any]:
        recipients = mark_reminded(task_id)
        task = HumanTask.objects.get(pk=task_id)
        reminded_on_commit(task, still_to_answer(task))
        return {"task": task_id, "reminded": recipients}

    def escalate(self, task_id: int, people: dict[str, Any]) -> dict[str, Any]:
        escalate(task_id, Assignees.from_config(people))
        return {"task": task_id, "escalated_to": people}

    def close(self, task_id: int, status: str) -> dict[str, Any]:
        task = close_task(task_id, TaskStatus(status))
        return {"task": task_id, "status": task.status}
