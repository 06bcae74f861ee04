"""The settings page's run timeout: an amount and a unit, saved as seconds, shown again in the
largest whole unit, cleared by emptying it; zero, a negative, a non-number and more than 365
days are refused naming the field, with what was typed kept and nothing saved."""

from typing import Any

import pytest
from django.test import Client

from designer.drafts import create_workflow, publish
from designer.models import Workflow
from tests.engine.graph.graphs import graph

pytestmark = pytest.mark.django_db

MANUAL = graph([("start", "trigger.manual"), ("end", "flow.end")], ["start>end"])


@pytest.fixture
def designer(make_user: Any) -> Client:
    client = Client()
    client.force_login(make_user("dora", "designers"))
    return client


@pytest.fixture
def expenses() -> Workflow:
    workflow, _ = create_workflow(slug="expenses", title="Expenses", user=None, graph=MANUAL)
    return workflow


def _form(amount: str, unit: str = "d", **fields: str) -> dict[str, str]:
    return {
        "title": "Expenses",
        "description": "",
        "compensate_on_cancel": "1",
        "parameter_rows": "0",
        "timeout": amount,
        "timeout_unit": unit,
        **fields,
    }


def test_a_timeout_is_saved_shown_in_its_unit_published_and_cleared(
    designer: Client, expenses: Workflow
) -> None:
    page = designer.get("/designer/expenses/settings").content.decode()
    assert 'name="timeout" type="number"' in page and 'value=""' in page
    assert '<option value="d" selected>days</option>' in page

    saved = designer.post("/designer/expenses/settings", _form("5", "d"))
    assert saved.status_code == 302
    expenses.refresh_from_db()
    assert expenses.timeout_seconds == 5 * 86_400
    page = designer.get("/designer/expenses/settings").content.decode()
    assert 'id="settings-timeout" name="timeout" type="number"' in page
    assert 'value="5"' in page and '<option value="d" selected>days</option>' in page
    assert publish(expenses, None).timeout_seconds == 5 * 86_400

    designer.post("/designer/expenses/settings", _form("90", "m"))
    page = designer.get("/designer/expenses/settings").content.decode()
    expenses.refresh_from_db()
    assert expenses.timeout_seconds == 5_400
    # 5,400 s is no whole number of hours: shown as 90 minutes, never as 1.5 hours.
    assert 'value="90"' in page and '<option value="m" selected>minutes</option>' in page

    cleared = designer.post("/designer/expenses/settings", _form(""))
    assert cleared.status_code == 302
    expenses.refresh_from_db()
    assert expenses.timeout_seconds is None


@pytest.mark.parametrize(
    ("amount", "unit", "message"),
    [
        ("0", "s", "more than 0 and at most 365 days"),
        ("-3", "h", "more than 0 and at most 365 days"),
        ("366", "d", "more than 0 and at most 365 days"),
        ("53", "w", "more than 0 and at most 365 days"),
        ("five", "d", "&#x27;five&#x27; is not a number"),
        ("nan", "d", "more than 0 and at most 365 days"),
        ("5", "fortnights", "a unit of seconds, minutes, hours, days or weeks"),
    ],
)
def test_a_bad_timeout_is_refused_naming_the_field_and_nothing_is_saved(
    designer: Client, expenses: Workflow, amount: str, unit: str, message: str
) -> None:
    designer.post("/designer/expenses/settings", _form("2", "h"))
    refused = designer.post(
        "/designer/expenses/settings", _form(amount, unit, title="Renamed meanwhile")
    )
    assert refused.status_code == 422
    html = refused.content.decode()
    assert "Nothing was saved: timeout: " in html and message in html
    assert 'id="settings-timeout-error">Run timeout: ' in html
    assert 'aria-invalid="true"' in html and f'value="{amount}"' in html
    expenses.refresh_from_db()
    assert (expenses.title, expenses.timeout_seconds) == ("Expenses", 7_200)


def test_the_longest_timeout_is_365_days(designer: Client, expenses: Workflow) -> None:
    assert designer.post("/designer/expenses/settings", _form("365", "d")).status_code == 302
    expenses.refresh_from_db()
    assert expenses.timeout_seconds == 365 * 86_400
