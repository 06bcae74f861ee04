"""The Designer lists code workflows; the Runs page lists recent runs, filterable by status
(a status it does not know is named, and all runs show)."""

import pytest
from django.test import Client

from engine.runtime.runs import cancel_run, start_run

pytestmark = pytest.mark.django_db


@pytest.fixture
def viewer(client: Client, make_user) -> Client:
    client.force_login(make_user("vera", "viewers"))
    return client


def test_the_designer_lists_the_demo_code_workflows(viewer: Client) -> None:
    page = viewer.get("/designer/").content.decode()
    assert "<code>expense-approval</code>" in page
    assert "<code>customer-onboarding</code>" in page


def test_the_runs_page_lists_runs_and_filters_by_status(
    viewer: Client, django_assert_max_num_queries
) -> None:
    waiting = start_run("test-sequence", {"steps": 1})
    ended = start_run("test-sequence", {"steps": 2})
    cancel_run(ended.pk)
    # Session, user, roles, graph titles, runs, saved views, and the nav's inbox count (2).
    with django_assert_max_num_queries(8):
        page = viewer.get("/runs/").content.decode()
    assert f"#{waiting.pk}" in page and f"#{ended.pk}" in page
    cancelled = viewer.get("/runs/?status=cancelled").content.decode()
    assert f"#{ended.pk}" in cancelled and f"#{waiting.pk}" not in cancelled
    refused = viewer.get("/runs/?status=nonsense")
    assert refused.status_code == 422
    assert "status:" in refused.content.decode()
    assert f"#{waiting.pk}" in refused.content.decode()
