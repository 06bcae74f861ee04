"""In Chromium, /dashboards/ draws its charts and tables from the rollups and, as a burst of
runs started through the API ends, shows the new numbers without a reload (its own refresh is
every 30 s, far slower than this test waits). The page passes the accessibility audit."""

import json
import time
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from accounts.models import ApiToken
from engine.models import Run
from tests.browser.canvas_helpers import audit, collect_errors, log_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("celery_worker", "side_effects_table"),
]

BURST = 8
FASTER_THAN_POLLING = 10_000  # ms


def test_the_dashboard_follows_a_burst_of_runs(
    page: Page, daphne_server: str, make_user: Any
) -> None:
    errors = collect_errors(page)
    make_user("vera", "viewers")
    _, token = ApiToken.issue(make_user("otto", "operators"), "burst")
    log_in(page, daphne_server, "vera")
    page.goto(f"{daphne_server}/dashboards/?period=hour")
    dashboard = page.locator("#dashboard")
    expect(dashboard).to_have_attribute("data-live-connected", "1", timeout=10_000)
    started = page.locator("[data-total='started'] .tile-value")
    expect(started).to_have_text("0")
    expect(page.locator("#chart-throughput canvas")).to_have_count(1)
    page.evaluate("window.stillTheSamePage = true")

    for index in range(BURST):
        response = page.request.post(
            f"{daphne_server}/api/workflows/test-sequence/runs",
            data=json.dumps({"input": {"steps": 2}, "idempotency_key": f"burst-{index}"}),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        assert response.status == 201, response.text()

    expect(started).to_have_text(str(BURST), timeout=FASTER_THAN_POLLING)
    deadline = time.monotonic() + 30
    while Run.objects.filter(status="completed").count() < BURST:
        assert time.monotonic() < deadline, list(Run.objects.values_list("status", flat=True))
        time.sleep(0.1)
    completed = page.locator("[data-total='completed'] .tile-value")
    expect(completed).to_have_text(str(BURST), timeout=FASTER_THAN_POLLING)
    # The chart's table says the same, and the steps' durations are listed.
    table = page.locator("#chart-throughput table.data-table")
    assert sum(int(n) for n in table.locator("tbody td:nth-child(2)").all_text_contents()) == BURST
    durations = page.locator("#durations table.data-table")
    expect(durations).to_contain_text("test-sequence")
    assert page.evaluate("window.stillTheSamePage") is True
    fetches = int(dashboard.get_attribute("data-fetches") or "0")
    # Coalesced: BURST runs made 3 * BURST changes, the page fetched far fewer times.
    assert 1 <= fetches < 3 * BURST, fetches

    assert audit(page, "body") == []
    assert errors == [], errors
