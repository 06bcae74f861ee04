"""Values the scheduler cannot fire cheaply, or cannot compute fire times around, are refused in
the admin, each on its field, and nothing is saved: a catch-up limit over 1,000 (the bound a code
declaration has), an interval over 366 days, a start or end past 8999. A row saved with such a
start before (or written in SQL) still shows its page and resumes: it has no further fire times."""

from datetime import UTC, datetime
from typing import Any

import pytest
from django.test import Client

from engine.inbound.schedules import save_schedule
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


@pytest.mark.parametrize("seconds", ["31622401", "2000000000", "1000000000000"])
def test_an_interval_over_366_days_is_refused(root: Client, seconds: str) -> None:
    answer = root.post(
        "/admin/engine/schedule/add/", {**FORM, "cron": "", "interval_seconds": seconds}
    )
    assert refused(answer) == {
        "interval_seconds": ["the interval is at most 366 days (31622400 seconds)"]
    }
    assert not Schedule.objects.exists()


@pytest.mark.parametrize("field", ["start_at", "end_at"])
@pytest.mark.parametrize("day", ["9999-12-31", "9000-01-01", "0001-01-01"])
def test_a_start_or_end_out_of_the_computable_range_is_refused(
    root: Client, field: str, day: str
) -> None:
    answer = root.post(
        "/admin/engine/schedule/add/", {**FORM, f"{field}_0": day, f"{field}_1": "23:59:59"}
    )
    assert refused(answer) == {field: ["must be from 1900 to 8999"]}
    assert not Schedule.objects.exists()


def test_a_start_late_in_8999_is_saved_and_previewed(root: Client) -> None:
    form = {**FORM, "cron": "", "interval_seconds": str(366 * 86400)}
    answer = root.post(
        "/admin/engine/schedule/add/",
        {**form, "start_at_0": "8999-12-31", "start_at_1": "00:00:00"},
    )
    assert answer.status_code == 302, answer.content.decode()[-2000:]
    schedule = Schedule.objects.get()
    page = root.get(f"/admin/engine/schedule/{schedule.pk}/change/")
    assert page.status_code == 200
    assert "8999-12-31" in page.content.decode()


def test_a_row_saved_with_a_start_past_the_range_shows_its_page_and_resumes(
    root: Client,
) -> None:
    schedule = save_schedule(
        Schedule(name="Far", workflow="test-sequence", input={"steps": 1}, cron="* * * * *")
    )
    Schedule.objects.filter(pk=schedule.pk).update(
        start_at=datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC), paused=True
    )
    page = root.get(f"/admin/engine/schedule/{schedule.pk}/change/")
    assert page.status_code == 200
    assert "None: no further fire times" in page.content.decode()
    answer = root.post(
        "/admin/engine/schedule/",
        {"action": "resume_schedules", "_selected_action": [schedule.pk]},
    )
    assert answer.status_code == 302
    schedule.refresh_from_db()
    assert (schedule.paused, schedule.next_fire_at) == (False, None)
    assert root.get("/admin/engine/schedule/").status_code == 200
