"""What every page's navigation shows besides the links: the count of my open tasks."""

from collections.abc import Callable

from django.contrib.auth.models import User
from django.http import HttpRequest

from engine.human import tasks_for
from engine.models import TaskStatus


def open_tasks(request: HttpRequest) -> dict[str, Callable[[], int] | None]:
    user = getattr(request, "user", None)
    if not isinstance(user, User):
        return {"open_task_count": None}

    def count() -> int:
        # Called by the template only when it renders the navigation: one query, or none.
        return tasks_for(user).filter(status=TaskStatus.OPEN).count()

    return {"open_task_count": count}
