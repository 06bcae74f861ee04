"""A code workflow's page shows its parameters (signature and input schema), the steps its
recent runs took, and lets operators start it from a form generated from its input schema,
with each problem named on its field; others see no form and are refused."""

import re
from typing import Any

import pytest
from django.test import Client

from engine.models import Run
from tests.engine.runtime.test_engine__runs_through_real_workers import wait_for_status

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("celery_worker", "side_effects_table"),
]

EXPENSE = {
    "input.id": "exp-9",
    "input.amount": "250.5",
    "input.employee": "eve",
    "input.manager": "max",
    "input.vp": "val",
}


def text(response: Any) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def test_operators_start_a_code_workflow_from_its_form(client: Client, make_user: Any) -> None:
    client.force_login(make_user("otto", "operators"))
    page = text(client.get("/designer/expense-approval/"))
    assert "expense_approval(expense: dict[str, typing.Any])" in page or "expense_approval(" in page
    assert "<code>amount</code></td><td>number</td><td>yes</td>" in page
    assert 'name="input.amount" value="" type="number" step="any" required' in page
    assert "No run has taken a step yet" in page

    wrong = client.post("/designer/expense-approval/start", {**EXPENSE, "input.amount": "lots"})
    assert wrong.status_code == 422
    assert 'id="start-amount-error">Amount must be a number' in text(wrong)
    assert 'value="lots"' in text(wrong)  # what was typed stays
    missing = client.post("/designer/expense-approval/start", {**EXPENSE, "input.vp": ""})
    assert "VP (a user) is required" in text(missing)
    negative = client.post("/designer/expense-approval/start", {**EXPENSE, "input.amount": "-3"})
    assert "Amount -3 is less than the minimum of 0" in text(negative)
    assert not Run.objects.filter(workflow="expense-approval").exists()

    started = client.post("/designer/expense-approval/start", EXPENSE)
    run = Run.objects.get(workflow="expense-approval")
    assert started.status_code == 302 and started["Location"] == f"/runs/{run.pk}/"
    assert run.input == {
        "id": "exp-9",
        "amount": 250.5,
        "employee": "eve",
        "manager": "max",
        "vp": "val",
    }
    assert run.trigger == "manual" and run.created_by is not None


def test_the_page_lists_the_steps_of_recent_runs(client: Client, make_user: Any) -> None:
    client.force_login(make_user("otto", "operators"))
    bad_json = client.post("/designer/test-sequence/start", {"input": "{steps: 2"})
    assert bad_json.status_code == 422 and "Input is not valid JSON" in text(bad_json)
    client.post("/designer/test-sequence/start", {"input": '{"steps": 2}'})
    wait_for_status(Run.objects.get(workflow="test-sequence"), "completed")
    page = text(client.get("/designer/test-sequence/"))
    assert re.search(r"<code>step-1</code></td><td>step</td><td>1</td><td>[\d.]+ ms", page)
    assert page.index("<code>step-1</code>") < page.index("<code>step-2</code>")


def test_viewers_see_no_form_and_cannot_start(client: Client, make_user: Any) -> None:
    client.force_login(make_user("vic", "viewers"))
    assert 'data-testid="start-form"' not in text(client.get("/designer/expense-approval/"))
    refused = client.post("/designer/expense-approval/start", EXPENSE)
    assert refused.status_code == 403 and "Your roles do not allow: start runs." in text(refused)
    assert not Run.objects.exists()
