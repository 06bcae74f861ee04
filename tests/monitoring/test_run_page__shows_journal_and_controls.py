"""The run page shows a run with its journal on a timeline; operators cancel and retry from it."""

import re
from datetime import UTC, datetime

import pytest
from django.test import Client

from designer.drafts import create_workflow, publish
from engine.inbound.schedules import fire_due_schedules
from engine.models import Run, Schedule, StepRecord
from engine.runtime.runs import start_run
from tests.engine.admin.test_admin__schedules import morning
from tests.engine.graph.builders import document, edge, node
from tests.engine.runtime.test_engine__runs_through_real_workers import wait_for_status
from tests.processes import RunningProcess

HTMX = {"HX-Request": "true"}
POLLING = 'hx-trigger="live-update, every 15s"'


def logged_in(make_user, username: str, *roles: str, enforce_csrf: bool = False) -> Client:
    client = Client(enforce_csrf_checks=enforce_csrf)
    client.force_login(make_user(username, *roles))
    return client


def csrf_token_of(page: str) -> str:
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


# --- without a worker: access rules and missing runs ---------------------------------------------
@pytest.mark.django_db
def test_an_unknown_run_is_a_friendly_404(make_user) -> None:
    viewer = logged_in(make_user, "vera", "viewers")
    response = viewer.get("/runs/999999/")
    assert response.status_code == 404
    page = response.content.decode()
    assert "No run #999999" in page and 'href="/runs/"' in page
    assert "<nav" in page  # the site's layout, not a bare error
    fragment = viewer.get("/runs/999999/", headers=HTMX)
    assert fragment.status_code == 404
    assert "No run #999999" in fragment.content.decode()
    assert "<html" not in fragment.content.decode() and POLLING not in fragment.content.decode()
    assert viewer.get("/runs/abc/").status_code == 404
    operator = logged_in(make_user, "olga", "operators")
    assert operator.post("/runs/999999/cancel").status_code == 404


@pytest.mark.django_db
def test_viewers_read_but_get_no_buttons_and_403_on_post(make_user) -> None:
    run = start_run("test-sequence", {"steps": 1})  # pending: no worker in this test
    viewer = logged_in(make_user, "vera", "viewers")
    page = viewer.get(f"/runs/{run.pk}/").content.decode()
    assert "test-sequence" in page and "Pending" in page
    assert "Cancel run" not in page and "Retry" not in page
    assert viewer.post(f"/runs/{run.pk}/cancel").status_code == 403
    assert viewer.post(f"/runs/{run.pk}/retry").status_code == 403
    assert Run.objects.get(pk=run.pk).status == "pending"
    nobody = logged_in(make_user, "nora")  # logged in, but no role: reads nothing
    assert nobody.get(f"/runs/{run.pk}/").status_code == 403
    assert Client().get(f"/runs/{run.pk}/").status_code == 302  # to the login page


@pytest.mark.django_db
def test_a_canvas_run_names_its_published_title_and_links_to_the_canvas(make_user) -> None:
    graph = document(
        [node("start", "trigger.manual"), node("out", "flow.end", output="{{ input }}")],
        [edge("start", "out")],
    )
    workflow, problems = create_workflow(
        slug="invoice-check", title="Check an invoice", user=None, graph=graph
    )
    assert problems == []
    publish(workflow, None)
    run = start_run("invoice-check", {"amount": 12})
    page = logged_in(make_user, "vera", "viewers").get(f"/runs/{run.pk}/").content.decode()
    assert "Check an invoice" in page and 'href="/designer/invoice-check/"' in page
    assert "<code>v1</code>" in page and "&quot;amount&quot;: 12" in page


@pytest.mark.django_db
def test_the_runs_list_and_the_admin_link_to_the_run_page(client: Client, make_user) -> None:
    run = start_run("test-sequence", {"steps": 1})
    client.force_login(make_user("root", is_staff=True, is_superuser=True))
    assert f'href="/runs/{run.pk}/"' in client.get("/runs/").content.decode()
    admin_page = client.get(f"/admin/engine/run/{run.pk}/change/").content.decode()
    assert f'href="/runs/{run.pk}/"' in admin_page


@pytest.mark.django_db
def test_a_run_a_schedule_started_names_its_schedule(make_user) -> None:
    schedule = morning()
    due = datetime(2026, 6, 1, 7, tzinfo=UTC)  # Monday 09:00 in Berlin
    Schedule.objects.filter(pk=schedule.pk).update(next_fire_at=due)
    fire_due_schedules(now=due)
    run = Run.objects.get(schedule_fires__schedule=schedule)
    viewer = logged_in(make_user, "vera", "viewers")
    page = viewer.get(f"/runs/{run.pk}/").content.decode()
    assert "<dt>Started by</dt><dd>schedule “Morning report”</dd>" in page
    started_by_api = start_run("test-sequence", {"steps": 1})
    assert "Started by" not in viewer.get(f"/runs/{started_by_api.pk}/").content.decode()


# --- runs executed by a real worker --------------------------------------------------------
@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("side_effects_table")
def test_a_completed_run_shows_its_steps_output_progress_and_metrics(
    celery_worker: RunningProcess, make_user, django_assert_max_num_queries
) -> None:
    run = wait_for_status(start_run("test-sequence", {"steps": 2}), "completed")
    viewer = logged_in(make_user, "vera", "viewers")
    # One of them is the nav's open-task count, which looks up delegations to the viewer too;
    # another the run's tasks (none here), another the runs re-run or forked from it; two more
    # the timeline's verdict and the steps' p95.
    with django_assert_max_num_queries(13):
        response = viewer.get(f"/runs/{run.pk}/")
    page = response.content.decode()
    assert response.status_code == 200
    assert 'href="/designer/test-sequence/"' in page and f"<code>{run.version}</code>" in page
    assert 'data-testid="run-status">Completed<' in page
    for name in ("step-1", "step-2"):
        assert f'<span class="step-name">{name}</span>' in page
    assert page.count('<rect class="bar bar-completed"') == 2
    assert "&quot;step-1&quot;,\n  &quot;step-2&quot;" in page  # the output, pretty-printed
    assert '<progress value="100.00" max="100"' in page and "step 2 of 2" in page
    assert "<code>steps</code>" in page  # the metric
    assert POLLING not in page  # an ended run is not polled
    assert "Cancel run" not in page and "Retry" not in page
    fragment = viewer.get(f"/runs/{run.pk}/", headers=HTMX).content.decode()
    assert fragment.lstrip().startswith('<section id="run-live"')
    assert "step-2" in fragment and POLLING not in fragment and "<html" not in fragment


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("side_effects_table")
def test_a_failed_run_shows_its_error_and_an_operator_retries_it(
    celery_worker: RunningProcess, timer_loop: RunningProcess, make_user
) -> None:
    # The flaky step fails its 3 attempts (its back-offs are timers, hence the timer loop);
    # after the retry, its next run succeeds.
    run = wait_for_status(start_run("test-retry", {"fail_times": 3}), "failed")
    viewer = logged_in(make_user, "vera", "viewers")
    seen_by_viewer = viewer.get(f"/runs/{run.pk}/").content.decode()
    assert "Error" in seen_by_viewer and "after 3 attempt(s)" in seen_by_viewer
    # The step's own error, message first; the verdict at the top says where the run stopped.
    assert "attempt 3 failed (ConnectionError)" in seen_by_viewer
    assert "failed at flaky after 3 attempts: attempt 3 failed (ConnectionError)" in seen_by_viewer
    assert "Retry" not in seen_by_viewer and "Cancel run" not in seen_by_viewer
    assert viewer.post(f"/runs/{run.pk}/retry").status_code == 403
    assert Run.objects.get(pk=run.pk).status == "failed"

    operator = logged_in(make_user, "olga", "operators", enforce_csrf=True)
    page = operator.get(f"/runs/{run.pk}/").content.decode()
    assert f'action="/runs/{run.pk}/retry"' in page and "Cancel run" not in page
    assert operator.post(f"/runs/{run.pk}/retry").status_code == 403  # no CSRF token
    retried = operator.post(f"/runs/{run.pk}/retry", {"csrfmiddlewaretoken": csrf_token_of(page)})
    assert retried.status_code == 302 and retried["Location"] == f"/runs/{run.pk}/"
    assert Run.objects.get(pk=run.pk).status in {"pending", "running", "waiting", "completed"}
    assert "retried from where it stopped" in operator.get(retried["Location"]).content.decode()
    done = wait_for_status(run, "completed")
    assert done.output == "ok" and done.error is None
    assert StepRecord.objects.filter(run=run, superseded=True).count() == 3
    after = operator.get(f"/runs/{run.pk}/").content.decode()
    assert after.count(">superseded</span>") == 3 and "Retry" not in after


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("side_effects_table")
def test_a_waiting_run_is_polled_until_an_operator_cancels_it(
    celery_worker: RunningProcess, make_user
) -> None:
    run = wait_for_status(start_run("test-wait", {"order_id": 4401}), "waiting")
    operator = logged_in(make_user, "olga", "operators")
    page = operator.get(f"/runs/{run.pk}/").content.decode()
    assert POLLING in page and f'hx-get="/runs/{run.pk}/"' in page
    assert "Cancel run" in page and "Retry" not in page
    assert '<span class="run-status run-waiting">waiting</span>' in page  # the wait step
    live = operator.get(f"/runs/{run.pk}/", headers=HTMX).content.decode()
    assert live.lstrip().startswith('<section id="run-live"') and POLLING in live

    cancelled = operator.post(f"/runs/{run.pk}/cancel", follow=True)
    assert cancelled.redirect_chain == [(f"/runs/{run.pk}/", 302)]
    assert f"Run #{run.pk} cancelled." in cancelled.content.decode()
    run = wait_for_status(run, "cancelled")  # once it undid what it did (nothing, here)
    assert run.error == {"type": "Cancelled", "message": "cancelled by olga on the run page"}
    stopped = operator.get(f"/runs/{run.pk}/", headers=HTMX).content.decode()
    assert 'data-testid="run-status">Cancelled<' in stopped
    # The wait the cancel interrupted, and the way back: a retry waits there again.
    assert '<span class="run-status run-cancelled">cancelled</span>' in stopped
    assert "Retry from where it stopped" in stopped
    assert POLLING not in stopped and "hx-get" not in stopped  # polling ends with the run
    again = operator.post(f"/runs/{run.pk}/cancel", follow=True).content.decode()
    assert "Nothing changed: run" in again and "already ended cancelled" in again


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("side_effects_table")
def test_parent_and_child_runs_link_to_each_other(celery_worker: RunningProcess, make_user) -> None:
    parent = wait_for_status(start_run("test-parent", {"child_steps": 1}), "completed")
    child = Run.objects.get(parent=parent)
    viewer = logged_in(make_user, "vera", "viewers")
    assert f'href="/runs/{child.pk}/"' in viewer.get(f"/runs/{parent.pk}/").content.decode()
    child_page = viewer.get(f"/runs/{child.pk}/").content.decode()
    assert f'href="/runs/{parent.pk}/"' in child_page and "Parent run" in child_page
