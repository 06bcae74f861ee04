"""In Chromium, a canvas workflow's run page draws the graph with the run laid over it (the
waiting approval named in the verdict); its steps open the step panel; and the canvas opened
from there with ?run=<id> shows the same step data in its run overlay's panel. A node's input
is its config as rendered from the run."""

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from engine.runtime.runs import start_run
from tests.browser.canvas_helpers import audit, collect_errors, log_in, publish_expense_demo
from tests.designer.test_demo_graphs__human_tasks_run_on_a_worker import open_task

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("celery_worker"),
]


def test_the_map_and_the_canvas_panel_show_the_run(
    page: Page, daphne_server: str, make_user: Any
) -> None:
    errors = collect_errors(page)
    make_user("dora", "designers", "operators")
    manager = make_user("manny", "approvers")
    assert manager is not None
    expense = publish_expense_demo(make_user)
    run = start_run(expense, {"employee": "eve", "amount": 2500, "description": "Conference"})
    open_task(run, "manager")

    log_in(page, daphne_server, "dora")
    page.goto(f"{daphne_server}/runs/{run.pk}/")
    expect(page.get_by_test_id("verdict")).to_contain_text("for approval by")
    graph = page.get_by_role("group", name="The workflow's graph with this run")
    start = graph.get_by_role("button", name="Expense submitted: completed")
    expect(start).to_be_visible()
    expect(graph.locator(".map-node.map-waiting")).to_have_count(1)
    expect(graph.locator(".map-edge.map-taken").first).to_be_attached()
    assert audit(page, "main") == [], "the run page of a graph run"
    start.click()
    panel = page.get_by_test_id("step-panel")
    expect(panel.get_by_test_id("step-output")).to_contain_text("Conference")
    page.keyboard.press("Escape")
    # A node's input is its config as rendered from the run: the approval's title filled in.
    timeline = page.get_by_test_id("timeline-rows")
    timeline.get_by_role("button", name="manager", exact=True).click()
    expect(panel.get_by_test_id("step-input")).to_contain_text("Expense of 2500 by eve")
    page.keyboard.press("Escape")

    page.get_by_role("link", name="this run on the canvas").click()
    expect(page.get_by_test_id("run-banner")).to_contain_text(f"Run #{run.pk}", timeout=20_000)
    expect(page.get_by_test_id("node-start")).to_have_attribute("data-run-state", "done")
    page.get_by_test_id("node-start").click()
    step_panel = page.get_by_test_id("run-step-panel")
    expect(step_panel).to_contain_text("completed")
    expect(step_panel).to_contain_text("Conference")
    expect(step_panel.get_by_role("heading", name="Input")).to_be_visible()
    expect(step_panel).not_to_contain_text("does not keep this step's input")
    assert errors == [], errors
