"""A machine version's parsed definition is kept per row, not per id: after a database is
emptied with its id sequences reset (a restore, a flush), a new version given an old row's id
runs its own definition in a process that parsed the old one."""

from typing import Any

import pytest

from engine.machines.definitions import pinned_machine
from engine.machines.publishing import publish_machine
from engine.models import MachineVersion

pytestmark = pytest.mark.django_db


def toggle(states: tuple[str, str]) -> dict[str, Any]:
    first, second = states
    return {
        "initial": first,
        "states": [{"id": first}, {"id": second}],
        "transitions": [
            {"id": "flip", "source": first, "event": "flip", "target": second},
            {"id": "flop", "source": second, "event": "flop", "target": first},
        ],
    }


def test_a_version_given_an_old_rows_id_runs_its_own_definition() -> None:
    publish_machine("lamp", "Lamp", toggle(("off", "on")))
    old = MachineVersion.objects.get(machine="lamp")
    assert set(pinned_machine("lamp", 1).definition.states) == {"off", "on"}  # parsed, kept

    MachineVersion.objects.filter(pk=old.pk).delete()
    MachineVersion.objects.create(
        pk=old.pk,
        machine="door",
        number=1,
        title="Door",
        definition=toggle(("shut", "ajar")),
        published_at=old.published_at,
    )
    assert set(pinned_machine("door", 1).definition.states) == {"shut", "ajar"}

    MachineVersion.objects.filter(pk=old.pk).delete()
    again = publish_machine("lamp", "Lamp", toggle(("dark", "lit")))
    MachineVersion.objects.filter(pk=again.pk).update(id=old.pk)
    assert set(pinned_machine("lamp", 1).definition.states) == {"dark", "lit"}
