"""In Chromium, the run page and the inbox change as the engine does, through their WebSockets
(their fallback polls are far slower than these tests wait), and the inbox never wipes a comment
being written."""

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from engine.human import Assignees, open_task
from engine.inbound.events import deliver_event
from engine.models import HumanTask, TaskKind
from engine.runtime.runs import start_run
from monitoring.live import WATCHED_REFRESH_SECONDS
from tests.browser.canvas_helpers import collect_errors, log_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("celery_worker"),
]

FASTER_THAN_POLLING = 6_000  # ms; the run page polls every 15 s, the inbox not at all


def _ask(run_id: int, step: str, title: str) -> HumanTask:
    return open_task(
        run_id=run_id,
        step_name=step,
        kind=TaskKind.APPROVAL,
        title=title,
        assignees=Assignees(users=("manny",)),
    )


def test_the_run_page_follows_the_run(page: Page, daphne_server: str, make_user: Any) -> None:
    errors = collect_errors(page)
    make_user("vera", "viewers")
    run = start_run("test-wait-simple", {"n": 7})
    log_in(page, daphne_server, "vera")
    page.goto(f"{daphne_server}/runs/{run.pk}/")
    status = page.get_by_test_id("run-status")
    expect(status).to_have_text("Waiting", timeout=20_000)
    expect(page.locator("[data-live-target='#run-live'][data-live-connected='1']")).to_have_count(1)
    page.wait_for_timeout(WATCHED_REFRESH_SECONDS * 2000)  # workers learn of new watchers

    deliver_event("Load.released", {"n": 7})
    expect(status).to_have_text("Completed", timeout=FASTER_THAN_POLLING)
    expect(page.locator("#run-live")).to_contain_text("Output")
    assert errors == [], errors


def test_the_inbox_shows_new_tasks_and_keeps_a_comment_being_written(
    page: Page, daphne_server: str, make_user: Any
) -> None:
    errors = collect_errors(page)
    make_user("manny", "approvers")
    run = start_run("test-wait-simple", {"n": 8})
    log_in(page, daphne_server, "manny")
    page.goto(f"{daphne_server}/inbox/")
    expect(
        page.locator("[data-live-target='#inbox-tasks'][data-live-connected='1']")
    ).to_have_count(1)
    expect(page.get_by_text("Nothing waits for you.")).to_be_visible()

    first = _ask(run.pk, "first", "Approve the first thing")
    card = page.get_by_test_id(f"task-{first.pk}")
    expect(card).to_be_visible(timeout=FASTER_THAN_POLLING)
    # The count in the navigation follows too.
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_label("1 open task")).to_be_visible(timeout=FASTER_THAN_POLLING)

    # While a comment is being written, a new task only raises a notice.
    card.get_by_label("Comment").fill("Half a thought")
    second = _ask(run.pk, "second", "Approve the second thing")
    expect(page.locator("[data-live-stale]")).to_be_visible(timeout=FASTER_THAN_POLLING)
    expect(page.get_by_test_id(f"task-{second.pk}")).to_have_count(0)
    expect(card.get_by_label("Comment")).to_have_value("Half a thought")

    page.locator("[data-live-stale]").get_by_role("link", name="Show the latest").click()
    expect(page.get_by_test_id(f"task-{second.pk}")).to_be_visible()
    assert errors == [], errors
