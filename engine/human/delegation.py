"""Out-of-office delegation: rules a person sets for their own tasks.

A rule lets one delegate decide the person's tasks (optionally of some workflows only) on
their behalf between two dates, both included. Rules are not transitive: a delegate acts only
on tasks assigned to the person who delegated, never on tasks delegated to that person.
"""

from datetime import date
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from engine.human.tasks import TaskError
from engine.models import Delegation

MAX_RULES = 20
MAX_WORKFLOWS = 50


def set_delegation(
    user: User, delegate: Any, starts_on: Any, ends_on: Any, workflows: Any = ()
) -> Delegation:
    """Add a rule; a bad field is named and nothing is saved."""
    if not isinstance(delegate, str) or not delegate:
        raise TaskError("name the person who decides for you", status=422, field="delegate")
    other = User.objects.filter(username=delegate, is_active=True).first()
    if other is None:
        raise TaskError(f"no active user called {delegate!r}", status=422, field="delegate")
    if other.pk == user.pk:
        raise TaskError("you cannot delegate to yourself", status=422, field="delegate")
    first, last = _date(starts_on, "starts_on"), _date(ends_on, "ends_on")
    if last < first:
        raise TaskError("the last day comes before the first", status=422, field="ends_on")
    if last < timezone.localdate():
        raise TaskError("the last day has passed already", status=422, field="ends_on")
    if isinstance(workflows, str) or not all(
        isinstance(slug, str) and slug for slug in workflows or ()
    ):
        raise TaskError("a list of workflow slugs", status=422, field="workflows")
    slugs = sorted(set(workflows or ()))
    if len(slugs) > MAX_WORKFLOWS:
        raise TaskError(f"at most {MAX_WORKFLOWS} workflows", status=422, field="workflows")
    with transaction.atomic():
        if Delegation.objects.filter(user=user).count() >= MAX_RULES:
            raise TaskError(
                f"at most {MAX_RULES} rules; end one first", status=422, field="delegate"
            )
        return Delegation.objects.create(
            user=user,
            delegate=other,
            starts_on=first,
            ends_on=last,
            workflows=slugs,
            created_at=timezone.now(),
        )


def end_delegation(user: User, delegation_id: int) -> None:
    """Remove one of the user's own rules (someone else's is as good as missing)."""
    deleted, _ = Delegation.objects.filter(pk=delegation_id, user=user).delete()
    if not deleted:
        raise TaskError(f"you have no delegation {delegation_id}", status=404)


def delegators_of(delegate: User, workflow: str, day: date | None = None) -> list[User]:
    """The people whose tasks of `workflow` the delegate may decide for them on `day`."""
    day = day or timezone.localdate()
    rules = Delegation.objects.filter(
        delegate=delegate, starts_on__lte=day, ends_on__gte=day, user__is_active=True
    ).select_related("user")
    return [rule.user for rule in rules if not rule.workflows or workflow in rule.workflows]


def active_rules_to(delegate: User, day: date | None = None) -> list[Delegation]:
    day = day or timezone.localdate()
    return list(
        Delegation.objects.filter(
            delegate=delegate, starts_on__lte=day, ends_on__gte=day, user__is_active=True
        ).select_related("user")
    )


def _date(value: Any, field: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise TaskError("a date such as 2026-12-24", status=422, field=field) from None
