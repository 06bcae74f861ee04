"""Who a task concerns: everyone it is assigned to, who asked for it, and who still has to
answer it (the people its mails go to)."""

from django.contrib.auth.models import User

from engine.models import HumanTask, Run, TaskDecision

MAX_PARENTS = 50


def people_of(task: HumanTask) -> list[User]:
    """Everyone the task is assigned to, directly or through a group."""
    direct = set(task.assignees.filter(is_active=True))
    grouped = set(User.objects.filter(groups__in=task.assigned_groups.all(), is_active=True))
    return sorted(direct | grouped, key=lambda user: user.pk)


def requesters(task: HumanTask) -> set[int]:
    """Whoever started the run (or the run it is a child of) and the person the workflow
    named as requester: the four-eyes rule keeps them from deciding."""
    found: set[int] = set()
    if task.requester_id is not None:
        found.add(task.requester_id)
    run_id: int | None = task.run_id
    for _ in range(MAX_PARENTS):
        if run_id is None:
            break
        row = Run.objects.filter(pk=run_id).values("created_by_id", "parent_id").first()
        if row is None:
            break
        if row["created_by_id"] is not None:
            found.add(row["created_by_id"])
        run_id = row["parent_id"]
    return found


def still_to_answer(task: HumanTask) -> list[User]:
    """The assignees who may and have not yet answered: not who asked, not who answered."""
    answered = TaskDecision.objects.filter(task=task).values_list("user_id", "decided_by_id")
    done = {person for pair in answered for person in pair if person is not None}
    excluded = done | requesters(task)
    return [person for person in people_of(task) if person.pk not in excluded]
