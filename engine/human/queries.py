"""Which tasks a person works on: their own, their groups' (unless someone claimed one), and
those of people who delegated to them today."""

from collections.abc import Sequence

from django.contrib.auth.models import User
from django.db.models import Q, QuerySet

from engine.human.delegation import active_rules_to
from engine.human.tasks import assigned_to
from engine.models import Delegation, HumanTask


def tasks_for(user: User, rules: Sequence[Delegation] | None = None) -> QuerySet[HumanTask]:
    """The user's inbox, newest first (every status: filter for the open ones). `rules` are
    the delegations to the user in force today, when the caller has them already."""
    wanted = assigned_to(user)
    holders = [user.pk]
    for rule in active_rules_to(user) if rules is None else rules:
        theirs = assigned_to(rule.user)
        if rule.workflows:
            theirs &= Q(run__workflow__in=rule.workflows)
        wanted |= theirs
        holders.append(rule.user_id)
    return (
        HumanTask.objects.filter(wanted)
        .exclude(Q(claimed_by__isnull=False) & ~Q(claimed_by__in=holders))
        .distinct()
        .order_by("-created_at", "-pk")
    )
