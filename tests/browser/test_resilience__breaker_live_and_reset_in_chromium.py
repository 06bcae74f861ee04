"""In Chromium, /resilience/ shows a breaker opening as a real worker's calls fail, without a
reload (over the page's socket; its own refresh is every 10 s, slower than this test waits),
with its failures, opened-at and open-until; an operator resets it from the page and it shows
closed; a viewer sees no reset button. The page passes the accessibility audit."""

import time
import uuid
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from engine.core.resilience import BreakerSpec
from engine.resilience.breakers import breaker_status, enter, leave
from engine.runtime.runs import start_run
from tests.browser.canvas_helpers import audit, collect_errors, log_in
from tests.engine.graph.local_server import LocalServer, Reply

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("celery_worker"),
]

FASTER_THAN_POLLING = 8_000  # ms


def test_an_operator_watches_a_breaker_open_and_resets_it(
    page: Page, daphne_server: str, make_user: Any, worker_server: LocalServer
) -> None:
    errors = collect_errors(page)
    name = f"page-{uuid.uuid4().hex[:8]}"
    # Known to the page before it opens: one failure, below the threshold of 5.
    spec = BreakerSpec(name, failure_threshold=5, window=60, cool_down=1.5)
    leave(spec, ok=False, probe=enter(spec))
    make_user("otto", "operators")
    log_in(page, daphne_server, "otto")
    page.goto(f"{daphne_server}/resilience/")
    live = page.locator("[data-live-socket='/ws/resilience/']")
    expect(live).to_have_attribute("data-live-connected", "1", timeout=10_000)
    row = page.locator(f"tr[data-breaker='{name}']")
    expect(row.get_by_test_id("breaker-state")).to_have_text("Closed")

    path = f"/resilience/{name}"
    worker_server.route("POST", path, Reply(503))
    url = worker_server.url(path)
    for _ in range(4):
        run = start_run("test-breaker-block", {"url": url, "breaker": name})
        deadline = time.monotonic() + 20
        while not run.is_terminal:
            assert time.monotonic() < deadline
            time.sleep(0.05)
            run.refresh_from_db()
    expect(row.get_by_test_id("breaker-state")).to_have_text("Open", timeout=FASTER_THAN_POLLING)
    expect(row).to_contain_text("0 / 5")
    assert row.locator("time").count() == 2  # opened at, open until

    row.get_by_role("button", name="Reset").click()
    expect(page.get_by_role("status")).to_contain_text(f"Circuit breaker {name} is closed again")
    expect(row.get_by_test_id("breaker-state")).to_have_text("Closed")
    status = breaker_status(name)
    assert status is not None and status.status == "closed"
    assert audit(page, "main") == []
    assert errors == [], errors


def test_a_viewer_sees_no_reset_button(page: Page, daphne_server: str, make_user: Any) -> None:
    name = f"page-{uuid.uuid4().hex[:8]}"
    spec = BreakerSpec(name, failure_threshold=1, cool_down=600)
    leave(spec, ok=False, probe=enter(spec))
    make_user("vera", "viewers")
    log_in(page, daphne_server, "vera")
    page.goto(f"{daphne_server}/resilience/")
    row = page.locator(f"tr[data-breaker='{name}']")
    expect(row.get_by_test_id("breaker-state")).to_have_text("Open")
    expect(row.get_by_role("button", name="Reset")).to_have_count(0)
