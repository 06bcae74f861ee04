"""Operators see runs with their journal in the admin and can cancel or retry them there."""

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.utils import timezone

from engine.models import Run, StepRecord
from engine.runtime.runs import start_run

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_logged_in(client: Client, make_user) -> Client:
    client.force_login(make_user("root", is_staff=True, is_superuser=True))
    return client


def test_the_run_page_shows_the_journal(admin_client_logged_in: Client) -> None:
    run = start_run("test-sequence", {"steps": 1})
    StepRecord.objects.create(
        run=run,
        seq=0,
        kind="step",
        name="step-1",
        status="completed",
        output="step-1",
        started_at=timezone.now(),
    )
    listing = admin_client_logged_in.get("/admin/engine/run/?status__exact=pending")
    assert "test-sequence" in listing.content.decode()
    page = admin_client_logged_in.get(f"/admin/engine/run/{run.pk}/change/").content.decode()
    assert "step-1" in page


def test_cancel_from_the_admin_and_a_refusal_explained(admin_client_logged_in: Client) -> None:
    run = start_run("test-sequence", {"steps": 1})
    response = admin_client_logged_in.post(
        "/admin/engine/run/",
        {"action": "cancel_runs", "_selected_action": [run.pk]},
        follow=True,
    )
    assert "1 run(s) cancelled." in response.content.decode()
    assert Run.objects.get(pk=run.pk).status == "cancelled"
    waiting = start_run("test-sequence", {"steps": 1})
    again = admin_client_logged_in.post(
        "/admin/engine/run/",
        {"action": "retry_runs", "_selected_action": [waiting.pk]},
        follow=True,
    )
    assert "Only failed, cancelled or timed-out runs can be retried; run" in again.content.decode()


@pytest.mark.parametrize("action", ["cancel_runs", "retry_runs"])
def test_staff_who_may_only_view_runs_can_neither_cancel_nor_retry(
    client: Client, make_user, action: str
) -> None:
    """The actions change runs, so they need the change permission, not just the view one."""
    watcher = make_user("watcher", is_staff=True)
    watcher.user_permissions.add(Permission.objects.get(codename="view_run"))
    client.force_login(watcher)
    run = start_run("test-sequence", {"steps": 1})
    Run.objects.filter(pk=run.pk).update(status="failed")
    listing = client.get("/admin/engine/run/")
    assert listing.status_code == 200
    assert action not in listing.content.decode()
    client.post("/admin/engine/run/", {"action": action, "_selected_action": [run.pk]})
    assert Run.objects.get(pk=run.pk).status == "failed"
