"""Publishing a machine: versions numbered per machine (after retired ones too), and a
definition with problems refused with each problem named, nothing written."""

from typing import Any

import pytest

from engine.machines.publishing import (
    MachineRefused,
    latest_version,
    publish_machine,
    retire_machine,
)
from engine.models import MachineVersion

pytestmark = pytest.mark.django_db


def light(**more: Any) -> dict[str, Any]:
    return {
        "initial": "off",
        "states": [{"id": "off"}, {"id": "on", "entry": more.get("entry", [])}],
        "transitions": [
            {"id": "flip-on", "source": "off", "event": "flip", "target": "on"},
            {"id": "flip-off", "source": "on", "event": "flip", "target": "off"},
        ],
    }


def test_versions_count_on_after_retiring() -> None:
    assert publish_machine("light", "Light", light()).number == 1
    assert publish_machine("light", "Light", light(), note="again").number == 2
    assert retire_machine("light") == 2
    assert latest_version("light") is None
    assert publish_machine("light", "Light", light()).number == 3
    assert latest_version("light").number == 3  # type: ignore[union-attr]


def test_a_bad_action_or_structure_is_refused_and_nothing_is_written() -> None:
    entry = [{"type": "action.http", "config": {"method": "GET"}}, {"type": "flow.end"}]
    with pytest.raises(MachineRefused) as refused:
        publish_machine("light", "Light", light(entry=entry))
    where = [(p.node, p.field) for p in refused.value.problems]
    assert ("on", "entry[0].config.url") in where or ("on", "entry[0].config") in where
    assert ("on", "entry[1].type") in where
    with pytest.raises(MachineRefused):
        publish_machine("light", "Light", {**light(), "initial": "nowhere"})
    assert not MachineVersion.objects.exists()
