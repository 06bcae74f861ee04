"""In Chromium, the run page explains a run: a verdict line, a Gantt timeline whose retried step
shows its back-off between attempts and whose wait shows what it waits for, a child run that
unfolds in place, and a step panel with the step's input and output. A 5,000-step run keeps
only the rows in view in the DOM and still scrolls to its end."""

import time
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from engine.inbound.events import deliver_event
from engine.models import Run, StepRecord
from engine.runtime.runs import start_run
from monitoring.live import WATCHED_REFRESH_SECONDS
from tests.browser.canvas_helpers import audit, collect_errors, log_in
from tests.engine.runtime.test_engine__runs_through_real_workers import wait_for_status

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FASTER_THAN_POLLING = 6_000  # ms; the page's fallback poll is every 15 s


@pytest.mark.usefixtures("celery_worker", "timer_loop", "side_effects_table")
def test_a_retried_step_and_a_wait_are_explained(
    page: Page, daphne_server: str, make_user: Any
) -> None:
    errors = collect_errors(page)
    make_user("vera", "viewers")
    run = start_run("test-timeline", {"people": ["ann", "bob"], "fail_times": 2, "n": 5})
    # Waiting first for the back-offs, then for the event.
    deadline = time.monotonic() + 30
    while not StepRecord.objects.filter(run=run, kind="wait").exists():
        assert time.monotonic() < deadline, "the run never reached its wait"
        time.sleep(0.1)
    wait_for_status(run, "waiting")
    log_in(page, daphne_server, "vera")
    page.goto(f"{daphne_server}/runs/{run.pk}/")

    verdict = page.get_by_test_id("verdict")
    expect(verdict).to_contain_text("waiting ")
    expect(verdict).to_contain_text("for event Timeline.go")
    chart = page.get_by_test_id("timeline-rows")
    rows = chart.get_by_test_id("timeline-row")
    flaky = rows.filter(has=page.get_by_role("button", name="flaky", exact=True))
    expect(flaky).to_have_count(1)
    # Three attempts on one row: two back-offs between them, each next attempt queued first.
    expect(flaky.locator("[data-kind=backoff]")).to_have_count(2)
    expect(flaky.locator("[data-kind=running]")).to_have_count(3)
    expect(flaky.get_by_text("\u00d73")).to_be_visible()
    wait_row = rows.filter(has=page.get_by_role("button", name="wait:Timeline.go", exact=True))
    waiting = wait_row.locator("[data-kind=waiting]")
    expect(waiting).to_have_count(1)
    assert "waiting" in (waiting.get_attribute("title") or "")
    assert "event Timeline.go" in (waiting.get_attribute("title") or "")
    # Parallel branches have rows of their own, side by side.
    expect(rows.filter(has_text="branch 1")).to_have_count(1)
    expect(rows.filter(has_text="branch 2")).to_have_count(1)
    # Internal rows are hidden until asked for.
    expect(rows.filter(has=page.get_by_role("button", name="now", exact=True))).to_have_count(0)

    # The child run unfolds in place, loaded when asked.
    page.get_by_role("button", name="Expand child run").first.click()
    expect(rows.filter(has=page.get_by_role("button", name="step-1", exact=True))).to_have_count(1)

    # A step's panel: its input (the branch's arguments) and output.
    chart.get_by_role("button", name="greet-bob", exact=True).click()
    panel = page.get_by_test_id("step-panel")
    expect(panel.get_by_role("heading", name="greet-bob")).to_be_visible()
    expect(panel.get_by_test_id("step-input")).to_contain_text('"bob"')
    expect(panel.get_by_test_id("step-output")).to_contain_text("hello bob")
    assert audit(page, "body") == [], "run page with the step panel open"
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()

    # The failing attempts of flaky: message first, then the exception class.
    chart.get_by_role("button", name="flaky", exact=True).click()
    expect(panel.locator(".panel-attempts li")).to_have_count(3)
    # An inline code step keeps its arguments on every attempt.
    expect(panel.get_by_test_id("step-input")).to_contain_text('"args"')
    expect(panel.locator(".panel-attempts .attempt-input")).to_have_count(3)
    expect(panel.locator(".panel-attempts .error-message").first).to_have_text(
        "attempt 1 failed (ConnectionError)"
    )
    page.get_by_role("button", name="Close").click()
    # The map lists the code workflow's steps; one opens the same panel.
    run_map = page.locator("#run-map")
    expect(run_map.get_by_role("button", name="flaky", exact=True)).to_be_visible()
    expect(run_map).to_contain_text("3 attempts")
    expect(run_map.locator("li.map-waiting")).to_have_count(1)
    run_map.get_by_role("button", name="greet-ann", exact=True).click()
    expect(panel.get_by_test_id("step-output")).to_contain_text("hello ann")
    page.keyboard.press("Escape")

    # Live: the event arrives, the verdict and the timeline follow without a reload.
    page.wait_for_timeout(WATCHED_REFRESH_SECONDS * 2000)
    deliver_event("Timeline.go", {"n": 5})
    expect(verdict).to_contain_text("completed in", timeout=FASTER_THAN_POLLING)
    expect(wait_row).to_have_attribute("data-status", "completed")
    # The map beside it follows through the timeline's socket, not its 15 s poll.
    expect(run_map.locator("li.map-waiting")).to_have_count(0, timeout=FASTER_THAN_POLLING)
    expect(run_map.locator("li.map-completed")).to_have_count(6)
    assert errors == [], errors


def test_a_run_of_5000_steps_keeps_the_dom_small_and_scrolls(
    page: Page, daphne_server: str, make_user: Any
) -> None:
    errors = collect_errors(page)
    make_user("vera", "viewers")
    start = timezone.now() - timedelta(hours=1)
    run = Run.objects.create(
        workflow="test-sequence",
        version="code",
        status="completed",
        created_at=start,
        started_at=start,
        finished_at=start + timedelta(seconds=5000),
    )
    StepRecord.objects.bulk_create(
        StepRecord(
            run=run,
            seq=n,
            name=f"step-{n + 1}",
            kind="step",
            status="completed",
            started_at=start + timedelta(seconds=n),
            finished_at=start + timedelta(seconds=n + 0.5),
        )
        for n in range(5000)
    )
    # An internal row (a journaled value), hidden until asked for.
    StepRecord.objects.create(
        run=run,
        seq=5000,
        name="now",
        kind="value",
        status="completed",
        started_at=start + timedelta(seconds=5000),
        finished_at=start + timedelta(seconds=5000),
    )
    log_in(page, daphne_server, "vera")
    page.goto(f"{daphne_server}/runs/{run.pk}/")
    rows = page.get_by_test_id("timeline-row")
    expect(rows.first).to_be_visible(timeout=15_000)  # a busy machine: 5,000 rows to read
    expect(page.locator("[data-timeline-compact]")).to_be_checked()  # chosen for a long run
    assert rows.count() < 100, rows.count()
    scroller = page.locator("[data-timeline-scroll]")
    scroller.evaluate("element => { element.scrollTop = element.scrollHeight; }")
    expect(page.get_by_role("button", name="step-5000", exact=True)).to_be_visible()
    assert rows.count() < 100, rows.count()
    scroller.evaluate("element => { element.scrollTop = element.scrollHeight / 2; }")
    expect(page.get_by_role("button", name="step-2500", exact=True)).to_be_attached()
    assert rows.count() < 100, rows.count()
    expect(page.get_by_text("5000 rows over")).to_be_visible()
    page.get_by_label("Show internal steps").check()
    expect(page.get_by_text("5001 rows over")).to_be_visible()
    scroller.evaluate("element => { element.scrollTop = element.scrollHeight; }")
    expect(page.get_by_role("button", name="now", exact=True)).to_be_visible()
    assert errors == [], errors
