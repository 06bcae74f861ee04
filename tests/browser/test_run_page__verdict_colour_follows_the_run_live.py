"""In Chromium, the run page's verdict changes its colour (its verdict-<status> class) with
its words when the run changes while the page is open: a waiting run that times out turns
red at once, and waiting again after a retry turns it back, as a reload would draw it."""

import re
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from engine.models import Timer, TimerKind
from engine.runtime.runs import retry_run, start_run
from monitoring.live import WATCHED_REFRESH_SECONDS
from tests.browser.canvas_helpers import collect_errors, log_in
from tests.engine.runtime.test_engine__runs_through_real_workers import wait_for_status

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FASTER_THAN_POLLING = 6_000  # ms; the page's fallback poll is every 15 s


def only_class(status: str) -> re.Pattern[str]:
    """The verdict's classes: `verdict` and this status's, no other status's."""
    return re.compile(rf"^verdict verdict-{status}$")


@pytest.mark.usefixtures("celery_worker", "timer_loop", "side_effects_table")
def test_the_verdict_turns_red_live_when_the_run_times_out(
    page: Page, daphne_server: str, make_user: Any
) -> None:
    errors = collect_errors(page)
    make_user("vera", "viewers")
    run = wait_for_status(start_run("test-wait", {"order_id": 4711}), "waiting")
    log_in(page, daphne_server, "vera")
    page.goto(f"{daphne_server}/runs/{run.pk}/")
    verdict = page.get_by_test_id("verdict")
    expect(verdict).to_contain_text("waiting ")
    expect(verdict).to_have_class(only_class("waiting"))
    page.wait_for_timeout(WATCHED_REFRESH_SECONDS * 2000)  # the socket is watching the run

    # Its run timeout comes due now: the timer loop ends it timed out.
    Timer.objects.create(run=run, kind=TimerKind.RUN_TIMEOUT, due_at=timezone.now())
    expect(verdict).to_contain_text("timed out after", timeout=FASTER_THAN_POLLING)
    expect(verdict).to_have_class(only_class("timed_out"))

    retry_run(run.pk)
    wait_for_status(run, "waiting")
    expect(verdict).to_contain_text("waiting ", timeout=FASTER_THAN_POLLING)
    expect(verdict).to_have_class(only_class("waiting"))
    live = verdict.get_attribute("class")
    page.reload()
    expect(page.get_by_test_id("verdict")).to_have_class(live or "")
    assert errors == [], errors
