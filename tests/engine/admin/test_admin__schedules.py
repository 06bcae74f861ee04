"""Schedules in the Django admin: listed with when, time zone and next fire in that zone; a bad
cron is refused with its explanation and nothing is saved; a saved schedule previews its next
five fire times; pause, resume and run-now from the list and the change page; the history of
fires links to runs; declared schedules can only be paused; operators may keep schedules; every
engine model is registered."""

import re
from datetime import UTC, datetime
from typing import Any

import pytest
from django.apps import apps
from django.contrib import admin
from django.test import Client
from django.utils import timezone

from engine.inbound.schedules import fire_due_schedules, save_schedule
from engine.models import Run, Schedule, ScheduleFire
from tests.engine.admin.schedule_forms import schedule_form

pytestmark = pytest.mark.django_db

FORM = schedule_form(
    name="Morning report",
    workflow="test-sequence",
    input='{"steps": 1}',
    cron="0 9 * * 1-5",
    timezone="Europe/Berlin",
)


@pytest.fixture
def root(client: Client, make_user: Any) -> Client:
    client.force_login(make_user("root", is_staff=True, is_superuser=True))
    return client


def morning(**fields: Any) -> Schedule:
    values: dict[str, Any] = {
        "name": "Morning report",
        "workflow": "test-sequence",
        "input": {"steps": 1},
        "cron": "0 9 * * 1-5",
        "timezone": "Europe/Berlin",
    }
    return save_schedule(Schedule(**(values | fields)))


def text(response: Any) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def test_the_list_shows_when_in_words_and_the_next_fire_in_the_schedules_zone(root: Client) -> None:
    schedule = morning()
    morning(name="Paused one", paused=True)
    page = text(root.get("/admin/engine/schedule/"))
    assert "Monday to Friday at 09:00" in page
    assert "Europe/Berlin" in page
    assert schedule.next_fire_at is not None
    local = schedule.next_fire_at.astimezone(__import__("zoneinfo").ZoneInfo("Europe/Berlin"))
    assert f"{local:%Y-%m-%d} 09:00 {local:%Z}" in page
    paused = text(root.get("/admin/engine/schedule/?paused__exact=1"))
    assert "Paused one" in paused and "Monday to Friday" in paused
    assert "Morning report" not in paused
    found = text(root.get("/admin/engine/schedule/?q=morning"))
    assert "Morning report" in found and "Paused one" not in found


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"cron": "61 9 * * *"}, "minute field: 61 is out of range 0\N{EN DASH}59"),
        ({"cron": "0 9 * * 1-5 *"}, "expected 5 fields"),
        ({"cron": "0 0 30 2 *"}, "February never has day 30"),
        ({"cron": ""}, "give a cron expression or an interval"),
        ({"interval_seconds": "60"}, "give a cron expression or an interval, not both"),
        ({"cron": "", "interval_seconds": "60", "jitter_seconds": "60"}, "jitter must be shorter"),
    ],
)
def test_a_bad_timing_is_refused_with_its_explanation(
    root: Client, changes: dict[str, str], message: str
) -> None:
    response = root.post("/admin/engine/schedule/add/", FORM | changes)
    assert response.status_code == 200
    assert message in text(response)
    assert not Schedule.objects.exists()


def test_a_saved_schedule_previews_its_next_five_fire_times(root: Client) -> None:
    response = root.post("/admin/engine/schedule/add/", FORM | {"_continue": "1"}, follow=True)
    schedule = Schedule.objects.get()
    assert (schedule.source, schedule.input, schedule.cron) == (
        "admin",
        {"steps": 1},
        "0 9 * * 1-5",
    )
    assert schedule.next_fire_at is not None and schedule.next_fire_at > timezone.now()
    page = text(response)
    assert "Next five fire times" in page
    times = re.findall(r'<li><time datetime="([^"]+)">([^<]+)</time></li>', page)
    assert len(times) == 5
    assert all(" 09:00 CE" in shown for _, shown in times)
    assert all(datetime.fromisoformat(moment).isoweekday() <= 5 for moment, _ in times)

    edited = root.post(
        f"/admin/engine/schedule/{schedule.pk}/change/",
        FORM | {"cron": "30 7 * * *", "timezone": "UTC", "_continue": "1"},
        follow=True,
    )
    times = re.findall(r'<li><time datetime="[^"]+">([^<]+)</time></li>', text(edited))
    assert len(times) == 5 and all(" 07:30 UTC" in shown for shown in times)
    schedule.refresh_from_db()
    assert schedule.next_fire_at.astimezone(UTC).strftime("%H:%M") == "07:30"


def test_pause_resume_and_run_now_from_the_list(root: Client) -> None:
    schedule = morning()
    listing = "/admin/engine/schedule/"
    paused = root.post(
        listing, {"action": "pause_schedules", "_selected_action": [schedule.pk]}, follow=True
    )
    assert "1 schedule(s) paused." in text(paused)
    schedule.refresh_from_db()
    assert schedule.paused and schedule.next_fire_at is None

    root.post(listing, {"action": "resume_schedules", "_selected_action": [schedule.pk]})
    schedule.refresh_from_db()
    assert not schedule.paused and schedule.next_fire_at is not None

    started = root.post(
        listing, {"action": "run_schedules_now", "_selected_action": [schedule.pk]}, follow=True
    )
    run = Run.objects.get(trigger="schedule")
    assert (
        f'Morning report: started <a href="/admin/engine/run/{run.pk}/change/">run {run.pk}</a>'
        in (started.content.decode())
    )
    assert ScheduleFire.objects.get(schedule=schedule).manual


def test_run_now_from_the_change_page(root: Client) -> None:
    schedule = morning()
    page = root.get(f"/admin/engine/schedule/{schedule.pk}/change/").content.decode()
    assert "Run the selected schedules now" in page
    response = root.post(
        f"/admin/engine/schedule/{schedule.pk}/change/",
        {
            "CHANGE_FORM-action": "run_schedules_now",
            "_selected_action": [schedule.pk],
            "index": "0",
        },
        follow=True,
    )
    assert "started" in text(response)
    assert Run.objects.filter(schedule_fires__schedule=schedule).count() == 1


def test_the_history_links_each_fire_to_its_run(root: Client) -> None:
    schedule = morning(overlap="skip")
    due = datetime(2026, 6, 1, 7, tzinfo=UTC)  # Monday 09:00 in Berlin
    Schedule.objects.filter(pk=schedule.pk).update(next_fire_at=due)
    fire_due_schedules(now=due)
    Schedule.objects.filter(pk=schedule.pk).update(next_fire_at=due.replace(day=2))
    fire_due_schedules(now=due.replace(day=2))
    run = Run.objects.get(schedule_fires__schedule=schedule)
    page = text(root.get(f"/admin/engine/schedule/{schedule.pk}/change/"))
    assert "Mon 2026-06-01 09:00 CEST" in page
    assert f'<a href="/admin/engine/run/{run.pk}/change/">run {run.pk}</a> (Pending)' in page
    assert "Skipped (previous run still going)" in page
    assert f"/admin/engine/schedulefire/?schedule__id__exact={schedule.pk}" in page
    assert "All 2 fires" in page
    run_page = text(root.get(f"/admin/engine/run/{run.pk}/change/"))
    assert "Started by schedule" in run_page
    assert f'<a href="/admin/engine/schedule/{schedule.pk}/change/">Morning report</a>' in run_page
    history = text(root.get(f"/admin/engine/schedulefire/?schedule__id__exact={schedule.pk}"))
    assert "Started a run" in history and f"run {run.pk}" in history


def test_a_declared_schedule_can_only_be_paused(root: Client) -> None:
    schedule = morning(source="code", source_key="test-sequence")
    page = root.get(f"/admin/engine/schedule/{schedule.pk}/change/").content.decode()
    assert 'name="cron"' not in page and 'name="workflow"' not in page
    assert 'name="paused"' in page
    assert "/delete/" not in page
    root.post(f"/admin/engine/schedule/{schedule.pk}/change/", {"paused": "on"})
    schedule.refresh_from_db()
    assert schedule.paused and schedule.cron == "0 9 * * 1-5"
    assert root.get(f"/admin/engine/schedule/{schedule.pk}/delete/").status_code == 403


def test_operators_keep_schedules_and_others_may_not(client: Client, make_user: Any) -> None:
    schedule = morning()
    client.force_login(make_user("otto", "operators", is_staff=True))
    assert "Schedules" in client.get("/admin/").content.decode()
    assert client.get(f"/admin/engine/schedule/{schedule.pk}/change/").status_code == 200
    client.post(
        "/admin/engine/schedule/", {"action": "pause_schedules", "_selected_action": [schedule.pk]}
    )
    schedule.refresh_from_db()
    assert schedule.paused
    client.force_login(make_user("vic", "viewers", is_staff=True))
    assert client.get(f"/admin/engine/schedule/{schedule.pk}/change/").status_code == 403


def test_every_engine_model_is_registered() -> None:
    missing = [
        model.__name__
        for model in apps.get_app_config("engine").get_models()
        if not admin.site.is_registered(model)
    ]
    assert missing == []
