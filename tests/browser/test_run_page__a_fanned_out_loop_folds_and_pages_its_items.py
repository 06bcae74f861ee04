"""In Chromium, the run page of a 1,000-item loop opens drawn from the answer the page
carries (before any timeline read): one row for the loop's items with its counts by status;
"show items" pages them 50 at a time and "only failed" keeps the failures, whose step panel
opens; a journal change heard on the run's socket updates the counts and the open page."""

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from engine.messaging.signals import announce_step
from engine.models import StepRecord
from monitoring.live import WATCHED_REFRESH_SECONDS
from tests.browser.canvas_helpers import audit, collect_errors, log_in
from tests.monitoring.fanned_out_runs import loop_run, publish_loop

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FASTER_THAN_POLLING = 6_000  # ms; the page's fallback poll is every 15 s
# When the chart first drew a row, in the page's clock (the debugging protocol adds it: the
# page's CSP does not apply).
DRAWN_AT = """
new MutationObserver((changes, observer) => {
  const rows = document.querySelector("[data-timeline-rows]");
  if (rows && rows.children.length) {
    window.drawnAt = performance.now();
    observer.disconnect();
  }
}).observe(document, {childList: true, subtree: true});
"""


def test_the_loop_opens_as_one_row_and_pages_its_items(
    page: Page, daphne_server: str, make_user: Any
) -> None:
    errors = collect_errors(page)
    make_user("vera", "viewers")
    run = loop_run(publish_loop(), 1000, failed=frozenset({5, 480, 999}))
    log_in(page, daphne_server, "vera")
    page.add_init_script(DRAWN_AT)
    page.goto(f"{daphne_server}/runs/{run.pk}/")

    rows = page.get_by_test_id("timeline-row")
    work = rows.filter(has_text="1000 items")
    expect(work).to_have_count(1)
    expect(work.get_by_test_id("group-counts")).to_have_text("997 completed · 3 failed")
    expect(work).to_have_attribute("data-status", "failed")
    expect(rows).to_have_count(4)  # start, each, the loop's items, done
    expect(page.get_by_text("1000 items folded into 1 row")).to_be_visible()
    # The page carried the chart's first answer: rows were drawn before any read of the
    # timeline (the socket's catch-up on connecting reads it, later).
    timing = page.evaluate(
        """() => ({drawn: window.drawnAt, reads: performance.getEntriesByType("resource")
            .filter((e) => e.name.includes("/api/runs/")).map((e) => e.startTime)})"""
    )
    assert all(timing["drawn"] < start for start in timing["reads"]), timing

    page.get_by_role("button", name="Show items of work").click()
    pager = page.get_by_test_id("timeline-pager")
    expect(pager).to_contain_text("Items 1\u201350 of 1000")
    expect(page.get_by_role("button", name="work[9]", exact=True)).to_be_visible()
    expect(pager.get_by_role("button", name="Previous 50")).to_be_disabled()
    pager.get_by_role("button", name="Next 50").click()
    expect(pager).to_contain_text("Items 51\u2013100 of 1000")
    expect(page.get_by_role("button", name="work[50]", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="work[0]", exact=True)).to_have_count(0)
    # Only the rows in view are drawn, however many items a page holds.
    assert rows.count() < 60, rows.count()

    pager.get_by_label("only failed (3)").check()
    expect(pager).to_contain_text("Items 1\u20133 of 3 failed")
    failed = page.locator("[data-testid=timeline-row][data-status=failed]:not([data-group])")
    expect(failed).to_have_count(3)
    assert audit(page, "[data-timeline]") == [], "the timeline with a loop's items open"
    page.get_by_role("button", name="work[480]", exact=True).click()
    panel = page.get_by_test_id("step-panel")
    expect(panel.get_by_role("heading", name="work[480]")).to_be_visible()
    expect(panel).to_contain_text("work[480] went wrong")
    page.keyboard.press("Escape")

    # Live: item 480 is done again; the socket says so and the chart and its page follow.
    page.wait_for_timeout(WATCHED_REFRESH_SECONDS * 2000)
    record = StepRecord.objects.get(run=run, name="work[480]")
    record.status, record.error = "completed", None
    record.save(update_fields=["status", "error"])
    announce_step(record)
    expect(pager).to_contain_text("Items 1\u20132 of 2 failed", timeout=FASTER_THAN_POLLING)
    expect(work.get_by_test_id("group-counts")).to_have_text("998 completed · 2 failed")

    page.get_by_role("button", name="Hide items of work").click()
    expect(rows).to_have_count(4)
    expect(pager).to_have_count(0)
    assert errors == [], errors
