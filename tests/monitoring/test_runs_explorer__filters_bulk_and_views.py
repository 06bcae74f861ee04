"""The runs explorer page: filters from the URL with titles shown, keyset pages, an htmx
fragment, bulk cancel that asks first and then says what happened to each run, saved views per
person; viewers see no bulk controls and are refused them; bad values are named, never a 500."""

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from engine.models import GraphVersion, Run, StepRecord
from engine.runtime.runs import start_run
from monitoring.models import SavedRunView

pytestmark = pytest.mark.django_db


def _run(workflow: str, status: str, ago: timedelta = timedelta(minutes=1), **fields: Any) -> Run:
    created = timezone.now() - ago
    return Run.objects.create(
        workflow=workflow, version="v1", status=status, created_at=created, **fields
    )


@pytest.fixture
def operator(client: Client, make_user: Any) -> Client:
    client.force_login(make_user("olga", "operators"))
    return client


def test_filters_in_the_url_show_titles_and_failing_steps(
    operator: Client, django_assert_max_num_queries: Any
) -> None:
    GraphVersion.objects.create(
        workflow="refunds",
        number=1,
        title="Customer refunds",
        graph={},
        published_at=timezone.now(),
    )
    failed = _run("refunds", "failed", error={"message": "bank said no"})
    StepRecord.objects.create(
        run=failed, seq=1, kind="step", name="pay-back", status="failed", started_at=timezone.now()
    )
    _run("refunds", "completed")
    _run("refunds", "failed", ago=timedelta(hours=3))
    with django_assert_max_num_queries(12):
        page = operator.get("/runs/?workflow=refunds&status=failed&within=1h")
    assert page.status_code == 200
    html = page.content.decode()
    assert html.count('data-testid="run-') == 1
    assert f'data-testid="run-{failed.pk}"' in html
    assert "Customer refunds" in html and "<code>pay-back</code>" in html
    assert "bank said no" in html
    assert 'value="failed" checked' in html
    fragment = operator.get("/runs/?workflow=refunds", headers={"HX-Request": "true"})
    assert fragment.content.decode().lstrip().startswith('<div id="run-results"')


def test_next_page_links_walk_every_run_once(operator: Client) -> None:
    made = {_run("billing", "completed", ago=timedelta(seconds=n)).pk for n in range(7)}
    seen: set[int] = set()
    url = "/runs/?workflow=billing"
    pages = 0
    while url:
        html = operator.get(url + "&limit=3").content.decode()
        found = {pk for pk in made if f'data-testid="run-{pk}"' in html}
        assert not found & seen
        seen |= found
        pages += 1
        marker = 'data-testid="next-page"'
        if marker not in html:
            break
        href = html[: html.index(marker)].rsplit('href="', 1)[1].split('"', 1)[0]
        url = href.replace("&amp;", "&")
    assert seen == made and pages == 3


def test_a_bad_filter_is_named_and_the_page_still_shows(operator: Client) -> None:
    run = _run("billing", "completed")
    page = operator.get("/runs/?status=nonsense")
    assert page.status_code == 422
    html = page.content.decode()
    assert "status:" in html and f'data-testid="run-{run.pk}"' in html


def test_bulk_cancel_asks_first_then_reports_each_run(operator: Client) -> None:
    waiting = start_run("test-wait-simple", {"n": 1})
    ended = _run("test-wait-simple", "completed")
    form = {
        "action": "cancel",
        "run": [str(waiting.pk), str(ended.pk)],
        "workflow": "test-wait-simple",
    }
    asked = operator.post("/runs/bulk", form).content.decode()
    assert 'data-testid="bulk-confirm"' in asked and "Cancel 2 runs?" in asked
    assert Run.objects.get(pk=waiting.pk).status == "pending"  # nothing changed yet

    done = operator.post("/runs/bulk", {**form, "confirmed": "yes"}).content.decode()
    assert "1 of 2 runs cancelled." in done
    assert f'data-run="{waiting.pk}"' in done and "refused — run" in done
    assert Run.objects.get(pk=waiting.pk).status in ("cancelled", "cancelling")
    assert Run.objects.get(pk=ended.pk).status == "completed"


def test_bulk_on_every_match_acts_on_the_filter_only(operator: Client) -> None:
    mine = [_run("imports", "failed") for _ in range(3)]
    other = _run("billing", "failed")
    form = {"action": "retry", "scope": "all", "workflow": "imports", "status": "failed"}
    asked = operator.post("/runs/bulk", form).content.decode()
    assert "Retry 3 runs" in asked and "every run these filters match" in asked
    done = operator.post("/runs/bulk", {**form, "confirmed": "yes"}).content.decode()
    assert "3 of 3 runs retried." in done
    assert {Run.objects.get(pk=run.pk).status for run in mine} == {"pending"}
    assert Run.objects.get(pk=other.pk).status == "failed"


def test_viewers_see_no_bulk_controls_and_are_refused(client: Client, make_user: Any) -> None:
    client.force_login(make_user("vera", "viewers"))
    run = start_run("test-wait-simple", {"n": 2})
    html = client.get("/runs/").content.decode()
    assert f'data-testid="run-{run.pk}"' in html and 'id="run-bulk"' not in html
    form = {"action": "cancel", "run": str(run.pk), "confirmed": "yes"}
    assert client.post("/runs/bulk", form).status_code == 403
    assert Run.objects.get(pk=run.pk).status == "pending"
    client.logout()
    assert client.get("/runs/").status_code == 302  # to the login page


def test_bad_bulk_posts_change_nothing(operator: Client) -> None:
    run = start_run("test-wait-simple", {"n": 3})
    for form in [
        {"action": "explode", "run": str(run.pk), "confirmed": "yes"},
        {"action": "cancel", "run": "abc", "confirmed": "yes"},
        {"action": "cancel", "confirmed": "yes"},
        {"action": "cancel", "run": str(run.pk), "status": "nope", "confirmed": "yes"},
    ]:
        answer = operator.post("/runs/bulk", form)
        assert answer.status_code == 422, form
        assert "Nothing changed" in answer.content.decode()
    assert Run.objects.get(pk=run.pk).status == "pending"


def test_saved_views_are_per_person(operator: Client, make_user: Any) -> None:
    saved = operator.post(
        "/runs/views",
        {"name": "Failed imports", "workflow": "imports", "status": ["failed", "cancelled"]},
    )
    assert saved.status_code == 303
    assert "status=failed&status=cancelled" in saved["Location"]
    view = SavedRunView.objects.get()
    assert view.params == {"workflow": "imports", "status": ["failed", "cancelled"]}
    html = operator.get("/runs/").content.decode()
    assert "Failed imports" in html
    assert "status=failed&amp;status=cancelled" in html and "workflow=imports" in html
    refused = operator.post("/runs/views", {"name": "x", "within": "forever"})
    assert refused.status_code == 303 and SavedRunView.objects.count() == 1

    other = Client()
    other.force_login(make_user("otto", "operators"))
    assert "Failed imports" not in other.get("/runs/").content.decode()
    other.post(f"/runs/views/{view.pk}/delete")
    assert SavedRunView.objects.filter(pk=view.pk).exists()
    operator.post(f"/runs/views/{view.pk}/delete")
    assert not SavedRunView.objects.exists()


def test_the_admin_lists_saved_views_read_only(client: Client, make_user: Any) -> None:
    owner = make_user("olga", "operators")
    SavedRunView.objects.create(user=owner, name="Stuck", params={}, created_at=timezone.now())
    client.force_login(make_user("root", is_staff=True, is_superuser=True))
    listed = client.get("/admin/monitoring/savedrunview/")
    assert listed.status_code == 200 and "Stuck" in listed.content.decode()
    assert client.get("/admin/monitoring/savedrunview/add/").status_code == 403
