"""Who may act on a task, and why not: assignees, claims, delegation and the four-eyes rule.

Everything here is read from the database (the run's starter, the task's assignees, earlier
decisions, delegation rules); nothing a user typed into a workflow's input can let someone
decide, only exclude more people.
"""

import re
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db.models import Q

from engine.human.delegation import delegators_of
from engine.human.people import requesters
from engine.human.tasks import TaskError, is_assignee
from engine.models import HumanTask, TaskDecision

_FRAME = re.compile(r"\[\d+\]")

NOT_YOURS = "only the task's assignees may decide it"


@dataclass(frozen=True)
class Standing:
    """The person a decision counts for: the user, or whoever delegated to them."""

    user: User
    on_behalf_of: User | None = None

    @property
    def counts_for(self) -> User:
        return self.on_behalf_of or self.user


def standing(task: HumanTask, user: User, on_behalf_of: str | None = None) -> Standing:
    """Why `user` may decide the task (for themselves or for someone who delegated to them),
    or a TaskError saying why not (403, or 409 for a claim held by someone else)."""
    acting = _acting(task, user, on_behalf_of)
    if task.claimed_by_id is not None and task.claimed_by_id not in (
        user.pk,
        acting.counts_for.pk,
    ):
        holder = task.claimed_by.get_username() if task.claimed_by else "someone"
        raise TaskError(f"{holder} has claimed this task", status=409)
    for person in {user, acting.counts_for}:
        reason = four_eyes_problem(task, person)
        if reason:
            raise TaskError(reason, status=403)
    return acting


def four_eyes_problem(task: HumanTask, person: User) -> str:
    """Why the four-eyes rule keeps `person` from deciding the task ("" when it does not)."""
    if person.pk in requesters(task):
        return (
            f"four-eyes: {person.get_username()} asked for this (started the run or is its "
            "requester); someone else must decide it"
        )
    stage = earlier_stage_decided_by(task, person)
    if stage:
        return (
            f"four-eyes: {person.get_username()} decided the {stage!r} stage of this run; "
            "this stage needs someone else"
        )
    return ""


def earlier_stage_decided_by(task: HumanTask, person: User) -> str:
    """The `distinct_from` stage of this run that `person` decided (for themselves or for
    someone else), or ""."""
    stages = set(task.distinct_from or ())
    if not stages:
        return ""
    # One query with OR, not a UNION: TaskDecision's default ordering made the UNION an error
    # on SQLite (the embedded default), so such a stage could not be decided there at all.
    decided = (
        TaskDecision.objects.filter(task__run_id=task.run_id)
        .exclude(task=task)
        .filter(Q(user=person) | Q(decided_by=person))
        .order_by()
        .values_list("task__step_name", flat=True)
        .distinct()
    )
    for step_name in decided:
        stage = _FRAME.sub("", step_name)
        if stage in stages:
            return stage
    return ""


def _acting(task: HumanTask, user: User, on_behalf_of: str | None) -> Standing:
    workflow = task.run.workflow
    if on_behalf_of:
        principal = next(
            (
                person
                for person in delegators_of(user, workflow)
                if person.get_username() == on_behalf_of
            ),
            None,
        )
        if principal is None:
            raise TaskError(
                f"{on_behalf_of} has not delegated this task to you",
                status=403,
                field="on_behalf_of",
            )
        if not is_assignee(task, principal):
            raise TaskError(f"the task is not assigned to {on_behalf_of}", status=403)
        return Standing(user, principal)
    if is_assignee(task, user):
        return Standing(user)
    principals = [person for person in delegators_of(user, workflow) if is_assignee(task, person)]
    if len(principals) == 1:
        return Standing(user, principals[0])
    if principals:
        names = ", ".join(sorted(person.get_username() for person in principals))
        raise TaskError(
            f"say on whose behalf you decide: {names}", status=422, field="on_behalf_of"
        )
    raise TaskError(NOT_YOURS, status=403)
