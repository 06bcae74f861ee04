"""In Chromium: a viewer's canvas says it is read-only and shows no editing control; a designer
publishes from the toolbar; disabled controls look and announce disabled; a notice floats over
the canvas instead of pushing it down."""

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from designer.drafts import create_workflow
from engine.graph.publishing import latest_version
from tests.browser.canvas_helpers import audit, collect_errors, log_in, open_canvas

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

GRAPH = {
    "nodes": [
        {"id": "manual", "type": "trigger.manual", "position": {"x": 0, "y": 0}},
        {
            "id": "set",
            "type": "flow.set",
            "position": {"x": 300, "y": 0},
            "config": {"values": {"seen": True}},
        },
    ],
    "edges": [{"id": "e1", "source": "manual", "target": "set"}],
}


def test_a_viewer_sees_a_read_only_canvas_without_editing_controls(
    page: Page, daphne_server: str, make_user: Any
) -> None:
    errors = collect_errors(page)
    make_user("vera", "viewers")
    create_workflow(slug="looked-at", title="Looked at", user=None, graph=GRAPH)
    log_in(page, daphne_server, "vera")
    page.goto(f"{daphne_server}/designer/looked-at/")
    expect(page.locator("html[data-canvas-ready='1']")).to_have_count(1)

    expect(page.get_by_test_id("read-only-banner")).to_contain_text("Read-only")
    expect(page.get_by_role("navigation", name="Node palette")).to_have_count(0)
    toolbar = page.get_by_role("toolbar", name="Canvas")
    for name in ["Undo", "Redo", "Auto-layout", "Publish", "Test run"]:
        expect(toolbar.get_by_role("button", name=name, exact=True)).to_have_count(0)
    expect(toolbar.get_by_role("button", name="Fit")).to_be_visible()

    # The side panel opens read-only: its inputs are disabled and there is nothing to apply.
    page.get_by_test_id("node-set").click()
    panel = page.locator("#panel")
    expect(panel.get_by_role("heading", name="Set variables")).to_be_visible()
    expect(panel.get_by_role("button", name="Apply")).to_have_count(0)
    expect(panel.get_by_label("Values: value of seen")).to_be_disabled()
    expect(panel.get_by_role("button", name="Add to Values")).to_have_count(0)
    assert audit(page, ".canvas-main", "#panel") == []
    assert errors == [], errors


def test_a_designer_publishes_from_the_toolbar_and_notices_float(
    page: Page, daphne_server: str, make_user: Any
) -> None:
    errors = collect_errors(page)
    make_user("pia", "designers")
    _, problems = create_workflow(slug="shipped", title="Shipped", user=None, graph=GRAPH)
    assert problems == []
    log_in(page, daphne_server, "pia")
    open_canvas(page, daphne_server, "shipped")
    toolbar = page.get_by_role("toolbar", name="Canvas")

    # Nothing to undo yet: the button is disabled, says so, and looks it.
    redo = toolbar.get_by_role("button", name="Redo")
    expect(redo).to_be_disabled()
    expect(redo).to_have_attribute("aria-disabled", "true")
    assert float(redo.evaluate("e => getComputedStyle(e).opacity")) < 0.6

    canvas = page.locator(".flow-wrapper")
    before = canvas.bounding_box()
    publish = toolbar.get_by_role("button", name="Publish", exact=True)
    expect(publish).to_have_class("button primary")
    publish.click()
    notice = page.get_by_test_id("notice")
    expect(notice).to_have_text("Published version 1.")
    # The notice is drawn over the canvas: the canvas did not move or shrink.
    assert canvas.bounding_box() == before
    version = latest_version("shipped")
    assert version is not None and version.number == 1
    expect(toolbar.get_by_role("button", name="Versions (v1)")).to_be_visible()
    assert errors == [], errors
