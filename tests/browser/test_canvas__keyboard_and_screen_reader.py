"""In Chromium, a designer builds and connects a workflow with the keyboard alone, and axe-core
finds nothing a screen reader would stumble on in the palette, the side panel and the dialogs."""

import json
import re

import pytest
from playwright.sync_api import Page, expect

from designer.drafts import create_workflow
from designer.models import Workflow
from tests.browser.canvas_helpers import audit, collect_errors, log_in, open_canvas

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _add_by_search(page: Page, words: str) -> None:
    search = page.get_by_role("searchbox", name="Search node types")
    search.focus()
    page.keyboard.press("Control+a")
    page.keyboard.type(words)
    page.keyboard.press("Enter")


def _select_by_keyboard(page: Page, node_id: str) -> None:
    """Focus a step as Tab would (every step is in the tab order), then Enter selects it."""
    step = page.locator(f".react-flow__node[data-id='{node_id}']")
    expect(step).to_have_attribute("tabindex", "0")
    step.focus()
    page.keyboard.press("Enter")
    expect(step).to_have_class(re.compile(r"\bselected\b"))


def test_build_and_connect_with_the_keyboard_alone(
    page: Page, daphne_server: str, make_user
) -> None:
    errors = collect_errors(page)
    make_user("kim", "designers")
    create_workflow(slug="keyboard", title="Keyboard", user=None)
    log_in(page, daphne_server, "kim")
    open_canvas(page, daphne_server, "keyboard")

    _add_by_search(page, "manual start")
    expect(page.get_by_test_id("node-manual")).to_be_visible()
    # With nothing to lead to, the connect dialog says so instead of offering an empty list.
    _select_by_keyboard(page, "manual")
    page.keyboard.press("c")
    lonely = page.get_by_role("dialog", name="Connect")
    expect(lonely).to_contain_text("There is no other step to lead to yet")
    page.keyboard.press("Escape")
    expect(lonely).to_have_count(0)
    _add_by_search(page, "set variables")
    expect(page.get_by_test_id("node-set")).to_be_visible()
    _add_by_search(page, "flow.end")
    expect(page.get_by_test_id("node-end")).to_be_visible()

    # C opens the connect dialog for the selected step: pick an output and a step, Enter.
    _select_by_keyboard(page, "manual")
    page.keyboard.press("c")
    dialog = page.get_by_role("dialog", name="Connect")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("From the output")).to_be_focused()
    # Triggers take no input, so only the other steps are offered.
    options = dialog.get_by_label("To the step").locator("option")
    expect(options).to_have_count(2)
    dialog.get_by_label("To the step").select_option("set")
    dialog.get_by_role("button", name="Connect").press("Enter")
    expect(dialog).to_have_count(0)
    expect(page.locator(".react-flow__edge")).to_have_count(1)

    _select_by_keyboard(page, "set")
    page.keyboard.press("c")
    dialog = page.get_by_role("dialog", name="Connect")
    dialog.get_by_label("To the step").select_option("end")
    dialog.get_by_label("From the output").select_option("error")
    dialog.get_by_role("button", name="Connect").press("Enter")
    expect(dialog).to_have_count(0)
    expect(page.locator(".react-flow__edge")).to_have_count(2)

    # The same edge again is refused, with the reason read out in the dialog.
    page.keyboard.press("c")
    dialog = page.get_by_role("dialog", name="Connect")
    dialog.get_by_label("To the step").select_option("end")
    dialog.get_by_label("From the output").select_option("error")
    dialog.get_by_role("button", name="Connect").press("Enter")
    expect(dialog.get_by_test_id("connect-message")).to_contain_text("already leads to 'end'")
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    expect(page.locator(".react-flow__edge")).to_have_count(2)

    # The side panel is a form: type the values, Tab to Apply, Enter.
    panel = page.locator("#panel")
    expect(panel.get_by_role("heading", name="Set variables")).to_be_visible()
    expect(page.get_by_test_id("badge-set")).to_be_visible()
    panel.locator("[data-field=values]").get_by_role("button", name="Edit as JSON").press("Enter")
    panel.get_by_label("Values (JSON)").focus()
    page.keyboard.type('{"seen": true}')
    panel.get_by_role("button", name="Apply").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("badge-set")).to_have_count(0)

    # Arrow keys move the selected step; with nothing selected they pan the view.
    _select_by_keyboard(page, "end")
    end = page.locator(".react-flow__node[data-id='end']")
    before = end.get_attribute("style")
    page.keyboard.press("ArrowDown")
    expect(end).not_to_have_attribute("style", before or "")
    page.keyboard.press("Escape")
    expect(page.locator(".react-flow__node.selected")).to_have_count(0)
    viewport = page.locator(".react-flow__viewport")
    before = viewport.get_attribute("style")
    page.keyboard.press("ArrowRight")
    expect(viewport).not_to_have_attribute("style", before or "")

    # Delete removes the selected step, Ctrl+Z brings it back.
    _select_by_keyboard(page, "end")
    page.keyboard.press("Delete")
    expect(page.get_by_test_id("node-end")).to_have_count(0)
    page.keyboard.press("Control+z")
    expect(page.get_by_test_id("node-end")).to_be_visible()
    expect(page.get_by_test_id("save-status")).to_contain_text("All changes saved")

    draft = Workflow.objects.get(slug="keyboard").draft
    edges = sorted((e["source"], e["target"], e.get("handle")) for e in draft["edges"])
    assert edges == [("manual", "set", None), ("set", "end", "error")]
    values = next(item for item in draft["nodes"] if item["id"] == "set")["config"]["values"]
    assert values == {"seen": True}
    assert errors == [], errors


def test_palette_panel_and_dialogs_pass_an_accessibilityaudit(
    page: Page, daphne_server: str, make_user
) -> None:
    make_user("kim", "designers", "operators")
    create_workflow(slug="audited", title="Audited", user=None)
    log_in(page, daphne_server, "kim")
    open_canvas(page, daphne_server, "audited")
    _add_by_search(page, "manual start")
    _add_by_search(page, "send email")
    expect(page.locator("#panel").get_by_role("heading", name="Send email")).to_be_visible()

    violations = audit(page, ".palette", "#panel", ".canvas-toolbar", "[data-testid=problems]")
    assert violations == [], json.dumps(violations, indent=1)

    for opener, name in [("?", "Keyboard shortcuts"), ("c", "Connect")]:
        _select_by_keyboard(page, "email")
        page.keyboard.press(opener)
        expect(page.get_by_role("dialog", name=name)).to_be_visible()
        violations = audit(page, "dialog[open]")
        assert violations == [], f"{name}: {json.dumps(violations, indent=1)}"
        page.keyboard.press("Escape")

    page.get_by_role("button", name="Versions").click()
    expect(page.get_by_role("dialog", name="Versions")).to_be_visible()
    assert audit(page, "dialog[open]") == []
    page.keyboard.press("Escape")
    page.get_by_role("button", name="Run…").click()
    expect(page.get_by_role("dialog", name="Start a run")).to_be_visible()
    assert audit(page, "dialog[open]") == []
