"""GET /api/machines/{slug}/states: how many instances are in each state now, for viewers; an
unknown machine is a 404 naming it."""

from typing import Any

import pytest

from accounts.models import ApiToken
from engine.machines.instances import create_instance
from engine.models import MachineInstance

pytestmark = pytest.mark.django_db


def test_counts_by_state_and_an_unknown_machine(client: Any, make_user: Any) -> None:
    _, raw = ApiToken.issue(make_user("vera", "viewers"), "ci")
    headers = {"Authorization": f"Bearer {raw}"}
    for key in ("a", "b", "c"):
        create_instance("test-toggle", key, {})
    MachineInstance.objects.filter(key="c").update(state="odd")

    found = client.get("/api/machines/test-toggle/states", headers=headers)
    assert found.status_code == 200
    assert found.json() == {"counts": {"even": 2, "odd": 1}, "total": 3}

    missing = client.get("/api/machines/no-such/states", headers=headers)
    assert missing.status_code == 404
    assert missing.json()["field"] == "slug" and "no-such" in missing.json()["detail"]
    assert client.get("/api/machines/test-toggle/states").status_code == 401
