"""In Chromium, a newcomer builds a workflow on an empty canvas without typing JSON: the input
schema in the schema builder, the approver from the people picker, the condition in the
expression editor, two e-mail recipients in the list editor. The zoom stays at 100 %, no two
steps ever overlap, and the new controls pass the accessibility audit."""

import json
import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from designer.drafts import create_workflow
from designer.models import Workflow
from tests.browser.canvas_helpers import (
    audit,
    collect_errors,
    drag_from_palette,
    log_in,
    open_canvas,
)
from tests.browser.contract14 import unexpected

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def zoom(page: Page) -> float:
    style = page.locator(".react-flow__viewport").get_attribute("style") or ""
    found = re.search(r"scale\(([\d.]+)\)", style)
    assert found, style
    return float(found.group(1))


def assert_no_overlap(page: Page) -> None:
    boxes = page.locator(".react-flow__node").evaluate_all(
        "nodes => nodes.map(n => { const r = n.getBoundingClientRect();"
        " return [n.dataset.id, r.left, r.top, r.right, r.bottom]; })"
    )
    for index, (a, left, top, right, bottom) in enumerate(boxes):
        for b, left2, top2, right2, bottom2 in boxes[index + 1 :]:
            apart = right <= left2 or right2 <= left or bottom <= top2 or bottom2 <= top
            assert apart, f"{a} overlaps {b}: {boxes}"


def saved(page: Page) -> None:
    expect(page.get_by_test_id("save-status")).to_contain_text("All changes saved")


def config_of(slug: str, node: str) -> dict[str, Any]:
    nodes = Workflow.objects.get(slug=slug).draft["nodes"]
    return next((item["config"] for item in nodes if item["id"] == node), {})


def saved_config(page: Page, slug: str, node: str, key: str, wanted: Any) -> None:
    """Wait until the draft in the database holds `wanted` at the node's config key."""
    for _ in range(50):
        if config_of(slug, node).get(key) == wanted:
            return
        page.wait_for_timeout(100)
    assert config_of(slug, node).get(key) == wanted


def add_from_palette(page: Page, title: str) -> None:
    page.get_by_role("button", name=f"Add {title}:").click()


def test_a_newcomer_builds_an_approval_flow_without_typing_json(
    page: Page, daphne_server: str, make_user: Any
) -> None:
    errors = collect_errors(page)
    make_user("dora", "designers")
    make_user("approver", "approvers")
    create_workflow(slug="expenses", title="Expenses", user=None)
    log_in(page, daphne_server, "dora")
    open_canvas(page, daphne_server, "expenses")
    panel = page.locator("#panel")

    # An empty canvas says how to start, at 100 %.
    expect(page.get_by_test_id("empty-canvas")).to_contain_text("Drag a step here")
    assert zoom(page) == 1
    # The search placeholder fits its box.
    search = page.get_by_label("Search node types")
    assert search.evaluate("e => e.scrollWidth <= e.clientWidth"), "placeholder cut off"

    # The first step dropped: no zoom jump, the hint is gone.
    drag_from_palette(page, "Manual start", 160, 160)
    expect(page.get_by_test_id("node-manual")).to_be_visible()
    expect(page.get_by_test_id("empty-canvas")).to_have_count(0)
    page.wait_for_timeout(300)  # a fitView would animate here
    assert zoom(page) == 1

    # The input schema, built field by field.
    page.get_by_test_id("node-manual").click()
    expect(panel.get_by_role("heading", name="Manual start")).to_be_visible()
    panel.get_by_role("button", name="Add a field to input schema").click()
    panel.get_by_label("Field name 1").fill("amount")
    panel.get_by_label("Type of amount").select_option("number")
    panel.get_by_label("amount is required").check()
    panel.get_by_label("Example of amount").fill("1200")
    panel.get_by_label("Label").click()  # leaving the builder applies it
    expect(panel.get_by_test_id("panel-status")).to_have_text("Applied to the canvas.")
    schema = {
        "type": "object",
        "properties": {"amount": {"type": "number", "examples": [1200]}},
        "required": ["amount"],
    }
    saved_config(page, "expenses", "manual", "input_schema", schema)
    violations = audit(page, "#panel")
    assert violations == [], json.dumps(violations, indent=1)

    # An approval, added while the trigger is selected: it lands next to it, not on it.
    page.get_by_test_id("node-manual").click()
    add_from_palette(page, "Approval")
    expect(page.get_by_test_id("node-approval")).to_be_visible()
    assert_no_overlap(page)
    expect(panel.get_by_role("heading", name="Approval")).to_be_visible()
    assignees = panel.get_by_role("combobox", name="Assignees")
    assignees.fill("approver")
    panel.get_by_role("option", name=re.compile(r"approver.*user")).first.click()
    expect(panel.get_by_test_id("chip-users-approver")).to_be_visible()
    expect(assignees).to_have_value("")
    saved_config(page, "expenses", "approval", "assignees", {"users": ["approver"]})
    violations = audit(page, "#panel")
    assert violations == [], json.dumps(violations, indent=1)

    # A condition dropped onto the approval is nudged free.
    box = page.get_by_test_id("node-approval").bounding_box()
    pane = page.locator(".react-flow__pane").bounding_box()
    assert box and pane
    drag_from_palette(page, "Condition", box["x"] - pane["x"] + 100, box["y"] - pane["y"] + 30)
    expect(page.get_by_test_id("node-condition")).to_be_visible()
    assert_no_overlap(page)
    expect(panel.get_by_role("heading", name="Condition")).to_be_visible()
    expression = panel.get_by_role("combobox", name=re.compile("^Condition"))
    expression.fill("input.amount > 1000")
    expression.press("Enter")
    saved_config(page, "expenses", "condition", "expression", "input.amount > 1000")

    # An e-mail to two recipients through the list editor.
    add_from_palette(page, "Send email")
    expect(page.get_by_test_id("node-email")).to_be_visible()
    assert_no_overlap(page)
    expect(panel.get_by_role("heading", name="Send email")).to_be_visible()
    recipient = panel.get_by_role("textbox", name="New To")
    recipient.fill("ada@example.com")
    recipient.press("Enter")
    recipient.fill("Grace <grace@example.com>")
    panel.get_by_role("button", name="Add to To").click()
    expect(panel.get_by_role("textbox", name="To 2")).to_have_value("Grace <grace@example.com>")
    recipients = ["ada@example.com", "Grace <grace@example.com>"]
    saved_config(page, "expenses", "email", "to", recipients)
    violations = audit(page, "#panel", ".canvas-toolbar", ".palette")
    assert violations == [], json.dumps(violations, indent=1)

    # Still 100 %, still nothing on top of anything, and no JSON view was ever opened.
    assert zoom(page) == 1
    assert_no_overlap(page)
    assert page.locator("[data-ui-view=json]").count() == 0
    assert unexpected(errors) == [], errors


def test_invalid_json_keeps_the_users_text_with_an_error(
    page: Page, daphne_server: str, make_user: Any
) -> None:
    errors = collect_errors(page)
    make_user("dora", "designers")
    graph = {
        "nodes": [
            {"id": "set", "type": "flow.set", "config": {"values": {"kept": 1}}},
        ],
        "edges": [],
    }
    create_workflow(slug="typos", title="Typos", user=None, graph=graph)
    log_in(page, daphne_server, "dora")
    open_canvas(page, daphne_server, "typos")
    panel = page.locator("#panel")
    page.get_by_test_id("node-set").click()
    expect(panel.get_by_role("heading", name="Set variables")).to_be_visible()
    expect(panel.get_by_label("Values: value of kept")).to_have_value("1")

    panel.locator("[data-field=values]").get_by_role("button", name="Edit as JSON").click()
    json_view = panel.get_by_label("Values (JSON)")
    json_view.fill('{"kept": 1, "broken": ')
    # Live: the error shows while typing, before anything is posted.
    expect(panel.get_by_test_id("json-error-values")).to_contain_text("not valid")
    violations = audit(page, "#panel")
    assert violations == [], json.dumps(violations, indent=1)
    panel.get_by_role("button", name="Apply").click()

    # The server keeps the text, names the problem, and does not claim it applied anything.
    expect(panel.get_by_test_id("panel-status")).to_contain_text("Not applied")
    expect(panel.get_by_test_id("panel-status")).not_to_contain_text("Applied to the canvas")
    expect(panel.locator("[data-field=values] .problem-text").last).to_contain_text(
        "is not valid JSON"
    )
    expect(json_view).to_have_value('{"kept": 1, "broken": ')
    saved(page)
    assert config_of("typos", "set") == {"values": {"kept": 1}}

    # Fixed in the JSON view, the form shows the new value too.
    json_view.fill('{"kept": 1, "fixed": "yes"}')
    panel.get_by_role("button", name="Apply").click()
    expect(panel.get_by_test_id("panel-status")).to_have_text("Applied to the canvas.")
    saved_config(page, "typos", "set", "values", {"kept": 1, "fixed": "yes"})
    panel.locator("[data-field=values]").get_by_role("button", name="Use the form").click()
    expect(panel.get_by_label("Values: value of fixed")).to_have_value("yes")
    assert errors == [], errors


def test_a_switchs_cases_are_rows_with_a_name_and_a_condition(
    page: Page, daphne_server: str, make_user: Any
) -> None:
    errors = collect_errors(page)
    make_user("dora", "designers")
    graph = {"nodes": [{"id": "route", "type": "logic.switch", "config": {}}], "edges": []}
    create_workflow(slug="routes", title="Routes", user=None, graph=graph)
    log_in(page, daphne_server, "dora")
    open_canvas(page, daphne_server, "routes")
    panel = page.locator("#panel")
    page.get_by_test_id("node-route").click()
    expect(panel.get_by_role("heading", name="Switch")).to_be_visible()

    for index, (name, when) in enumerate(
        [("big", "input.amount > 100"), ("small", "input.amount < 10")], start=1
    ):
        panel.get_by_role("button", name="Add to Cases").click()
        panel.get_by_label(f"Name of Cases {index}").fill(name)
        condition = panel.locator(f"[id$='-{index - 1}-when']")
        condition.fill(when)
        condition.press("Enter")
    expect(page.get_by_test_id("handle-route-small")).to_be_visible()
    saved_config(
        page,
        "routes",
        "route",
        "cases",
        [
            {"name": "big", "when": "input.amount > 100"},
            {"name": "small", "when": "input.amount < 10"},
        ],
    )
    violations = audit(page, "#panel")
    assert violations == [], json.dumps(violations, indent=1)
    assert unexpected(errors) == [], errors
