"""A bulkhead added in the admin takes only a name that steps and nodes can use (lowercase
letters, digits, '.', '_' and '-'): any other was saved before and could never be used. A
workflow cap likewise names a workflow by a slug a workflow can have, and caps at most
100,000 moving runs (as `@workflow(max_active=...)` does)."""

from typing import Any

import pytest
from django.test import Client

from engine.models import Bulkhead, WorkflowCap

pytestmark = pytest.mark.django_db


def added(staff: Client, name: str) -> Any:
    return staff.post(
        "/admin/engine/bulkhead/add/", {"name": name, "max_concurrent": "3", "description": ""}
    )


@pytest.mark.parametrize("name", ["Has Space/Slash", "<script>alert(1)</script>", "ÜNÏ ✓", "-x"])
def test_a_name_no_step_could_use_is_refused_naming_the_field(staff: Client, name: str) -> None:
    response = added(staff, name)
    assert response.status_code == 200, "the form again, not a redirect"
    assert list(response.context["adminform"].form.errors) == ["name"]
    assert not Bulkhead.objects.exists()


def test_a_name_steps_use_is_saved(staff: Client) -> None:
    assert added(staff, "partner-api.v2_eu").status_code == 302
    assert Bulkhead.objects.get().name == "partner-api.v2_eu"


def capped(staff: Client, workflow: str, max_active: str) -> Any:
    return staff.post(
        "/admin/engine/workflowcap/add/",
        {"workflow": workflow, "max_active": max_active, "key_field": ""},
    )


@pytest.mark.parametrize(
    ("workflow", "max_active", "field"),
    [
        ("Has Space/x", "2", "workflow"),
        ("contract_signature", "2", "workflow"),
        ("contract-signature", "100001", "max_active"),
        ("contract-signature", "99999999999", "max_active"),
        ("contract-signature", "0", "max_active"),
    ],
)
def test_a_cap_no_run_could_meet_is_refused_naming_the_field(
    staff: Client, workflow: str, max_active: str, field: str
) -> None:
    response = capped(staff, workflow, max_active)
    assert response.status_code == 200, "the form again, not a redirect"
    assert list(response.context["adminform"].form.errors) == [field]
    assert not WorkflowCap.objects.exists()


def test_a_cap_on_a_slug_is_saved(staff: Client) -> None:
    assert capped(staff, "contract-signature", "100000").status_code == 302
    assert WorkflowCap.objects.get().max_active == 100_000
