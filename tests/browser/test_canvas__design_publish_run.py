"""In Chromium, a designer builds a workflow on the canvas, configures it, publishes and runs it."""

import pytest
from playwright.sync_api import Page, expect

from designer.drafts import create_workflow
from designer.models import Workflow
from tests.browser.canvas_helpers import (
    collect_errors,
    connect,
    drag_from_palette,
    log_in,
    open_canvas,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_build_configure_undo_layout_reload_publish_and_run(
    page: Page, daphne_server: str, celery_worker: object, make_user
) -> None:
    errors = collect_errors(page)
    make_user("dora", "designers", "operators")
    create_workflow(slug="greet", title="Greet", user=None)
    log_in(page, daphne_server, "dora")
    page.goto(f"{daphne_server}/designer/")
    page.get_by_role("link", name="Greet", exact=True).click()
    open_canvas(page, daphne_server, "greet")

    # Two nodes dragged from the palette, then connected.
    drag_from_palette(page, "Manual start", 150, 150)
    expect(page.get_by_test_id("node-manual")).to_be_visible()
    drag_from_palette(page, "Set variables", 500, 150)
    expect(page.get_by_test_id("node-set")).to_be_visible()
    connect(page, "manual", "out", "set")
    expect(page.locator(".react-flow__edge")).to_have_count(1)

    # An edge into a trigger is refused with a reason.
    connect(page, "set", "out", "manual")
    expect(page.get_by_test_id("notice")).to_contain_text("no edge may lead into a trigger")
    expect(page.locator(".react-flow__edge")).to_have_count(1)

    # The set node lacks its required values: a badge, then the panel fixes it.
    badge = page.get_by_test_id("badge-set")
    expect(badge).to_be_visible()
    page.get_by_test_id("node-set").click()
    panel = page.locator("#panel")
    expect(panel.get_by_role("heading", name="Set variables")).to_be_visible()
    # The values' editor has a JSON view for experts.
    panel.locator("[data-field=values]").get_by_role("button", name="Edit as JSON").click()
    panel.get_by_label("Values (JSON)").fill('{"greeting": "hello {{ input.name }}"}')
    panel.get_by_label("Label").fill("Say hello")
    panel.get_by_role("button", name="Apply").click()
    expect(page.get_by_test_id("node-set")).to_contain_text("Say hello")
    expect(badge).to_have_count(0)
    expect(page.get_by_test_id("save-status")).to_contain_text("All changes saved")

    # Undo brings the problem back, redo removes it again.
    page.locator(".react-flow__pane").click(position={"x": 20, "y": 20})
    page.get_by_role("button", name="Undo").click()
    expect(page.get_by_test_id("node-set")).not_to_contain_text("Say hello")
    page.get_by_role("button", name="Redo").click()
    expect(page.get_by_test_id("node-set")).to_contain_text("Say hello")

    # Auto-layout moves the nodes into columns, in the worker.
    page.get_by_role("button", name="Auto-layout").click()
    expect(page.get_by_test_id("notice")).to_contain_text("Laid out")
    expect(page.get_by_test_id("save-status")).to_contain_text("All changes saved")

    # Reload: the draft was saved.
    page.reload()
    open_canvas(page, daphne_server, "greet")
    expect(page.get_by_test_id("node-set")).to_contain_text("Say hello")
    expect(page.locator(".react-flow__edge")).to_have_count(1)
    draft = Workflow.objects.get(slug="greet").draft
    assert {node["id"] for node in draft["nodes"]} == {"manual", "set"}
    assert draft["nodes"][1]["config"] == {"values": {"greeting": "hello {{ input.name }}"}}

    # Publish with a note, then run and watch the nodes turn done.
    page.get_by_role("button", name="Versions").click()
    page.get_by_label("Note for this version").fill("first cut")
    page.get_by_role("button", name="Publish the draft").click()
    expect(page.get_by_test_id("publish-status")).to_contain_text("Published version 1")
    expect(page.get_by_test_id("versions")).to_contain_text("first cut")
    page.get_by_role("button", name="Close").click()

    page.get_by_role("button", name="Run…").click()
    page.get_by_label("Input (JSON)").fill('{"name": "Ada"}')
    page.get_by_role("button", name="Start", exact=True).click()
    expect(page.get_by_test_id("run-banner")).to_contain_text("completed", timeout=30_000)
    expect(page.get_by_test_id("node-manual")).to_have_attribute("data-run-state", "done")
    expect(page.get_by_test_id("node-set")).to_have_attribute("data-run-state", "done")

    # The run's own page tells the rest: its status and the journal of both steps.
    page.get_by_test_id("run-banner").get_by_role("link", name="Open the run").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Greet")
    expect(page.locator("main")).to_contain_text("completed")
    expect(page.locator("main")).to_contain_text("manual")
    expect(page.locator("main")).to_contain_text("set")
    assert errors == [], errors
