"""Designer actions on state machine drafts: create, save, publish, delete, versions, diff.

They mirror the workflow drafts' actions (designer.drafts): each validates first and changes
nothing on a bad input, and each owns its transaction. Publishing hands the draft to the engine
(engine.machines.publishing), which checks it again whoever sends it.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from designer.drafts import DesignerError, check_title, world
from designer.machine_diff import diff_machines
from designer.models import Machine
from engine.core.definitions import SLUG_PATTERN
from engine.core.machines import Problem
from engine.graph.nodes import CheckContext
from engine.machines.publishing import (
    MachineRefused,
    live_versions,
    publish_machine,
    retire_machine,
)
from engine.machines.validate import definition_problems
from engine.models import MachineVersion

EMPTY_MACHINE: dict[str, Any] = {"initial": "", "states": [], "transitions": []}


@dataclass(frozen=True)
class MachineDraft:
    definition: dict[str, Any]
    revision: int
    problems: list[Problem]


def problems_of(definition: Any, context: CheckContext | None = None) -> list[Problem]:
    """Structure and every action's config, with the designer's view of what exists."""
    return definition_problems(definition, context or world())


def check_document(definition: Any, field: str = "definition") -> None:
    """Refuse what is not a machine document at all; a draft may still have problems."""
    if not isinstance(definition, Mapping):
        raise DesignerError("a machine document is a JSON object", field=field)
    for key in ("states", "transitions"):
        rows = definition.get(key, [])
        if not isinstance(rows, list) or not all(isinstance(row, Mapping) for row in rows):
            raise DesignerError("a list of objects", field=f"{field}.{key}")


def check_machine_slug(slug: Any) -> str:
    if not isinstance(slug, str) or not SLUG_PATTERN.match(slug):
        raise DesignerError(
            "use lowercase letters, digits and hyphens (1 to 100 characters)", field="slug"
        )
    if Machine.objects.filter(slug=slug).exists():
        raise DesignerError(f"a machine called {slug!r} exists", status=409, field="slug")
    # Live versions without a draft were published by something else than the designer.
    if live_versions(slug).exists():
        raise DesignerError(
            f"{slug!r} has published versions the designer does not own", status=409, field="slug"
        )
    return slug


def create_machine(
    *,
    slug: Any,
    title: Any,
    user: User | None,
    description: str = "",
    definition: Any = None,
) -> tuple[Machine, list[Problem]]:
    check_machine_slug(slug)
    title = check_title(title)
    definition = EMPTY_MACHINE if definition is None else definition
    check_document(definition)
    now = timezone.now()
    try:
        with transaction.atomic():
            machine = Machine.objects.create(
                slug=slug,
                title=title,
                description=description,
                draft=definition,
                created_by=user,
                created_at=now,
                updated_by=user,
                updated_at=now,
            )
    except IntegrityError:
        raise DesignerError(f"a machine called {slug!r} exists", status=409, field="slug") from None
    return machine, problems_of(definition)


def save_machine_draft(
    machine: Machine, definition: Any, revision: Any, user: User | None
) -> MachineDraft:
    """Save the draft if `revision` is the current one; a stale save is refused (409)."""
    if isinstance(revision, bool) or not isinstance(revision, int):
        raise DesignerError("the revision number the edit started from", field="revision")
    check_document(definition)
    # One conditional UPDATE: of two saves from the same revision exactly one matches a row.
    updated = Machine.objects.filter(pk=machine.pk, revision=revision).update(
        draft=definition, revision=revision + 1, updated_by=user, updated_at=timezone.now()
    )
    if not updated:
        current = Machine.objects.filter(pk=machine.pk).values_list("revision", flat=True).first()
        raise DesignerError(
            "someone saved this draft meanwhile; reload it or save again over theirs",
            status=409,
            field="revision",
            extra={"current_revision": current},
        )
    machine.refresh_from_db()
    return MachineDraft(machine.draft, machine.revision, problems_of(definition))


def publish_machine_draft(machine: Machine, user: User | None, note: str = "") -> MachineVersion:
    """Hand the draft to the engine as the next numbered version; an invalid draft is refused."""
    context = world()
    problems = problems_of(machine.draft, context)
    if not problems:
        try:
            # The same context: the engine checks again with the answers this check was given.
            return publish_machine(
                machine.slug, machine.title, machine.draft, note=note, author=user, context=context
            )
        except MachineRefused as refused:
            problems = refused.problems
    raise DesignerError(
        f"the draft has {len(problems)} problem(s); fix them before publishing",
        field="draft",
        problems=problems,
    )


def delete_machine(machine: Machine) -> None:
    """Remove the machine; its versions stay for the instances pinned to them but start none."""
    with transaction.atomic():
        retire_machine(machine.slug)
        machine.delete()


def version_of(machine: Machine, number: int) -> MachineVersion | None:
    return live_versions(machine.slug).select_related("author").filter(number=number).first()


def definition_at(machine: Machine, which: str, field: str) -> dict[str, Any]:
    """A version's definition by number, or the draft."""
    if which == "draft":
        return dict(machine.draft)
    if not which.isdigit():
        raise DesignerError("a version number or 'draft'", field=field)
    version = version_of(machine, int(which))
    if version is None:
        raise DesignerError(f"no version {which}", status=404, field=field)
    return dict(version.definition)


def diff(machine: Machine, old: str, new: str) -> dict[str, Any]:
    return diff_machines(definition_at(machine, old, "from"), definition_at(machine, new, "to"))


def newest_published(*slugs: str) -> dict[str, int]:
    """The newest live version number of these machines (of all without slugs), in one query."""
    versions = MachineVersion.objects.filter(retired=False)
    if slugs:
        versions = versions.filter(machine__in=slugs)
    rows = versions.values("machine").annotate(n=Max("number"))
    return {row["machine"]: row["n"] for row in rows}
