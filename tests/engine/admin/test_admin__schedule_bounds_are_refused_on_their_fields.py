"""Values the scheduler cannot fire cheaply are refused in the admin, each on its field, and
nothing is saved: a catch-up limit over 1,000 (the bound a code declaration has)."""

from typing import Any

import pytest
from django.test import Client

from engine.models import Schedule
from tests.engine.admin.schedule_forms import schedule_form

pytestmark = pytest.mark.django_db

FORM = schedule_form(
    name="Every minute",
    workflow="test-sequence",
    input='{"steps": 1}',
    cron="* * * * *",
    timezone="UTC",
    catch_up="run_all",
)


@pytest.fixture
def root(client: Client, make_user: Any) -> Client:
    client.force_login(make_user("root", is_staff=True, is_superuser=True))
    return client


def refused(answer: Any) -> dict[str, list[str]]:
    """The form's errors, by field; the answer must be the form again, not a redirect or a 500."""
    assert answer.status_code == 200, answer.content.decode()[-2000:]
    errors = answer.context["adminform"].form.errors
    assert errors, "the form was not refused"
    return {name: list(messages) for name, messages in errors.items()}


@pytest.mark.parametrize("limit", ["1001", "2000000000", "99999999999"])
def test_a_catch_up_limit_over_the_bound_is_refused(root: Client, limit: str) -> None:
    answer = root.post("/admin/engine/schedule/add/", {**FORM, "catch_up_limit": limit})
    assert refused(answer) == {
        "catch_up_limit": ["the catch-up limit is at most 1000 missed fires"]
    }
    assert not Schedule.objects.exists()


def test_a_catch_up_limit_over_the_bound_is_refused_when_changed(root: Client) -> None:
    assert root.post("/admin/engine/schedule/add/", FORM).status_code == 302
    schedule = Schedule.objects.get()
    answer = root.post(
        f"/admin/engine/schedule/{schedule.pk}/change/", {**FORM, "catch_up_limit": "5000"}
    )
    assert "catch_up_limit" in refused(answer)
    schedule.refresh_from_db()
    assert schedule.catch_up_limit == 10


def test_the_bound_itself_is_saved(root: Client) -> None:
    answer = root.post("/admin/engine/schedule/add/", {**FORM, "catch_up_limit": "1000"})
    assert answer.status_code == 302, answer.content.decode()[-2000:]
    assert Schedule.objects.get().catch_up_limit == 1000
