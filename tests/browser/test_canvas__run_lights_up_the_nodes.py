"""In Chromium, a run started from the canvas colours its nodes as it goes: done, then waiting on
an approval, done again once the manager decides, and grey where a cancel stopped it."""

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from engine.human import decide_task
from engine.models import Run
from engine.runtime.runs import cancel_run
from tests.browser.canvas_helpers import collect_errors, log_in, open_canvas, publish_expense_demo
from tests.designer.test_demo_graphs__human_tasks_run_on_a_worker import open_task

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("celery_worker"),
]


def test_waiting_and_done_nodes_follow_the_run(
    page: Page, daphne_server: str, make_user: Any
) -> None:
    errors = collect_errors(page)
    make_user("otto", "operators")
    manager = make_user("manny", "approvers")
    expense = publish_expense_demo(make_user)

    log_in(page, daphne_server, "otto")
    open_canvas(page, daphne_server, expense)
    page.get_by_role("button", name="Run…").click()
    dialog = page.get_by_role("dialog", name="Start a run")
    dialog.get_by_label("employee").fill("eve")
    dialog.get_by_label("amount").fill("2500")
    dialog.get_by_label("description").fill("Conference")
    dialog.get_by_role("button", name="Start").click()

    banner = page.get_by_test_id("run-banner")
    expect(banner).to_contain_text("waiting", timeout=20_000)
    expect(page.get_by_test_id("node-start")).to_have_attribute("data-run-state", "done")
    expect(page.get_by_test_id("node-manager")).to_have_attribute("data-run-state", "waiting")
    expect(page.get_by_test_id("node-vp")).to_have_attribute("data-run-state", "")

    run = Run.objects.get(workflow=expense)
    decide_task(open_task(run, "manager").pk, manager, "approved")
    # Over 1,000: the condition sends it on to the VP, who is asked next.
    expect(page.get_by_test_id("node-manager")).to_have_attribute(
        "data-run-state", "done", timeout=20_000
    )
    expect(page.get_by_test_id("node-large")).to_have_attribute("data-run-state", "done")
    expect(page.get_by_test_id("node-vp")).to_have_attribute("data-run-state", "waiting")
    expect(banner).to_contain_text("waiting")

    # A cancel stops the VP's approval: its node turns grey, not "running".
    cancel_run(run.pk, compensate=False)
    expect(banner).to_contain_text("cancelled", timeout=20_000)
    expect(page.get_by_test_id("node-vp")).to_have_attribute("data-run-state", "cancelled")
    expect(page.get_by_test_id("node-manager")).to_have_attribute("data-run-state", "done")
    assert errors == [], errors
