"""Publishing a machine: the engine action that turns a definition into a numbered version.

The only code that writes MachineVersion rows. A caller (the designer) validates for its own
users first; the engine refuses a definition with problems too, whoever sends it. Instances
stay on the version they started with until an operator migrates them.
"""

from typing import Any

from django.contrib.auth.models import User
from django.db import connection, transaction
from django.db.models import Max, QuerySet
from django.utils import timezone

from engine.core.machines import Problem
from engine.graph.nodes import CheckContext
from engine.machines.validate import definition_problems
from engine.models import MachineVersion

_PUBLISH_LOCK = 0x4D53  # apart from graph publishing's advisory lock key


class MachineRefused(ValueError):
    """A definition with problems: nothing was published."""

    def __init__(self, slug: str, problems: list[Problem]) -> None:
        super().__init__(f"{slug}: the machine has {len(problems)} problem(s)")
        self.problems = problems


def publish_machine(
    slug: str,
    title: str,
    definition: dict[str, Any],
    *,
    note: str = "",
    author: User | None = None,
    context: CheckContext | None = None,
) -> MachineVersion:
    """Freeze `definition` as the machine's next version (numbers continue after retired ones)."""
    problems = definition_problems(definition, context)
    if problems:
        raise MachineRefused(slug, problems)
    with transaction.atomic():
        _lock(slug)
        last = MachineVersion.objects.filter(machine=slug).aggregate(n=Max("number"))["n"]
        return MachineVersion.objects.create(
            machine=slug,
            number=(last or 0) + 1,
            title=title,
            definition=definition,
            note=note,
            author=author,
            published_at=timezone.now(),
        )


def retire_machine(slug: str) -> int:
    """Retire every version: instances keep theirs, no new instance starts. Returns how many."""
    with transaction.atomic():
        _lock(slug)
        return live_versions(slug).update(retired=True)


def live_versions(slug: str) -> QuerySet[MachineVersion]:
    return MachineVersion.objects.filter(machine=slug, retired=False)


def latest_version(slug: str) -> MachineVersion | None:
    return live_versions(slug).order_by("-number").first()


def _lock(slug: str) -> None:
    """Serialise publishing one machine (SQLite lets one writer in at a time already)."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [_PUBLISH_LOCK, slug])
