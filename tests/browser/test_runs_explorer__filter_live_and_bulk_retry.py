"""In Chromium, an operator narrows the runs list to one workflow's failed runs of the last hour
through the form (the URL says so, to share it), sees a new failed run appear without reloading,
and retries the selected runs in bulk after confirming, with an outcome for each; the page
passes the accessibility audit."""

import time
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from engine.models import Run
from engine.runtime.runs import start_run
from tests.browser.canvas_helpers import audit, collect_errors, log_in
from tests.engine.runtime.test_engine__runs_through_real_workers import wait_for_status

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("celery_worker", "timer_loop", "side_effects_table"),
]

LIVE = 10_000  # ms; the list has no polling at all: only its socket brings new runs


def _failing() -> Run:
    """A real run that fails at its flaky step after three quick attempts."""
    return wait_for_status(start_run("test-retry", {"fail_times": 1000}), "failed")


def _until_journal_grows(run: Run, beyond: int) -> None:
    deadline = time.monotonic() + 20
    while run.steps.count() <= beyond:
        assert time.monotonic() < deadline, f"run {run.pk} was not retried"
        time.sleep(0.1)


def test_filter_to_failed_runs_see_a_new_one_live_and_retry_them(
    page: Page, daphne_server: str, make_user: Any
) -> None:
    errors = collect_errors(page)
    make_user("olga", "operators")
    first, second = _failing(), _failing()
    elsewhere = wait_for_status(start_run("test-sequence", {"steps": 1}), "completed")
    long_ago = Run.objects.create(
        workflow="test-retry",
        version="v0",
        status="failed",
        created_at=timezone.now() - timedelta(hours=3),
    )

    log_in(page, daphne_server, "olga")
    page.goto(f"{daphne_server}/runs/")
    filters = page.get_by_role("form", name="Filter runs")
    filters.get_by_label("Workflow", exact=True).fill("test-retry")
    filters.get_by_label("Failed", exact=True).check()
    filters.get_by_label("Started", exact=True).select_option("1h")
    filters.get_by_role("button", name="Show").click()

    rows = page.locator("#run-results tbody tr")
    expect(rows).to_have_count(2)
    expect(page.get_by_test_id(f"run-{first.pk}")).to_contain_text("flaky")
    for hidden in (elsewhere, long_ago):
        expect(page.get_by_test_id(f"run-{hidden.pk}")).to_have_count(0)
    shared = parse_qs(urlparse(page.url).query)
    assert shared["workflow"] == ["test-retry"]
    assert shared["status"] == ["failed"]
    assert shared["within"] == ["1h"]
    expect(page.locator("[data-live-socket='/ws/runs/'][data-live-connected='1']")).to_have_count(1)

    third = _failing()
    expect(page.get_by_test_id(f"run-{third.pk}")).to_be_visible(timeout=LIVE)
    expect(rows).to_have_count(3)
    assert audit(page, "main") == []

    page.get_by_label(f"Select run #{first.pk}").check()
    page.get_by_label(f"Select run #{second.pk}").check()
    expect(page.locator("[data-bulk-count]")).to_have_text("2 selected")
    journal = {run.pk: run.steps.count() for run in (first, second)}
    page.get_by_role("button", name="Retry…").click()
    confirm = page.get_by_test_id("bulk-confirm")
    expect(confirm).to_contain_text("Retry 2 runs?")
    assert Run.objects.get(pk=first.pk).status == "failed"  # asking changes nothing
    confirm.get_by_role("button", name="Yes, retry 2 runs").click()

    results = page.get_by_test_id("bulk-results")
    expect(results.locator(".bulk-done")).to_have_count(2)
    expect(results).to_contain_text("retried from where it stopped")
    expect(page.get_by_test_id("runs-notice")).to_have_text("2 of 2 runs retried.")
    assert Run.objects.get(pk=third.pk).status == "failed"
    for retried in (first, second):
        # The retried run went on from its failed step: its journal grows past the 3 attempts.
        _until_journal_grows(retried, beyond=journal[retried.pk])
    # The answers outlive the live refreshes the retried runs cause.
    page.wait_for_timeout(1500)
    expect(results.locator(".bulk-done")).to_have_count(2)
    assert errors == [], errors
