"""In Chromium, against issue 14's designer endpoints: the condition editor suggests the names in
scope and flags `amount > 1000` before publishing; a step is tested with sample input and its
output pinned; a side effect asks first; the draft is test-run from the toolbar; the people
picker finds the approver; publishing an unchanged draft says there is nothing to publish.

Skipped while the endpoints are not served (the server side of issue 14 brings them)."""

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from designer.drafts import create_workflow
from engine.models import GraphVersion, Run
from tests.browser import contract14
from tests.browser.canvas_helpers import audit, collect_errors, log_in, open_canvas

pytestmark = [
    pytest.mark.browser,
    pytest.mark.needs_dback,
    pytest.mark.django_db(transaction=True),
]

SCHEMA = {
    "type": "object",
    "properties": {"amount": {"type": "number", "examples": [1200]}},
    "required": ["amount"],
}
GRAPH = {
    "nodes": [
        {
            "id": "manual",
            "type": "trigger.manual",
            "position": {"x": 0, "y": 0},
            "config": {"input_schema": SCHEMA},
        },
        {
            "id": "check",
            "type": "logic.condition",
            "position": {"x": 300, "y": 0},
            "config": {"expression": "input.amount > 1000"},
        },
        {
            "id": "mail",
            "type": "action.email",
            "position": {"x": 600, "y": 0},
            "config": {"to": ["ada@example.com"], "subject": "Big", "body": "An expense"},
        },
    ],
    "edges": [
        {"id": "e1", "source": "manual", "target": "check"},
        {"id": "e2", "source": "check", "target": "mail", "handle": "true"},
    ],
}


def open_designer(page: Page, base_url: str, make_user: Any, slug: str) -> None:
    make_user("dora", "designers")
    create_workflow(slug=slug, title=slug.title(), user=None, graph=GRAPH)
    log_in(page, base_url, "dora")
    open_canvas(page, base_url, slug)


@contract14.needs(contract14.EXPRESSIONS)
def test_the_condition_editor_suggests_names_and_flags_an_undefined_one(
    page: Page, daphne_server: str, make_user: Any
) -> None:
    errors = collect_errors(page)
    open_designer(page, daphne_server, make_user, "suggested")
    page.get_by_test_id("node-check").click()
    panel = page.locator("#panel")
    editor = panel.get_by_role("combobox", name=re.compile("^Condition"))

    # Typing "inp" offers input.amount from the trigger's input schema; Enter takes it.
    editor.fill("")
    editor.press_sequentially("input.am")
    option = panel.get_by_role("option", name=re.compile(r"input\.amount"))
    expect(option).to_be_visible()
    assert audit(page, "#panel") == []
    editor.press("Enter")
    expect(editor).to_have_value("input.amount")
    editor.press_sequentially(" > 1000")

    # A preview against sample data.
    panel.get_by_text("Sample data for the preview").click()
    panel.get_by_label("Sample (JSON: input, vars, nodes)").fill('{"input": {"amount": 1500}}')
    expect(panel.get_by_test_id("expression-preview-expression")).to_contain_text("true")

    # `amount` alone is no name in scope: flagged as you type, and on the node once saved.
    editor.fill("amount > 1000")
    expect(panel.get_by_test_id("expression-problems-expression")).to_contain_text("amount")
    editor.press("Enter")
    expect(page.get_by_test_id("badge-check")).to_be_visible()
    expect(page.get_by_test_id("problems")).to_contain_text("amount")
    assert errors == [], errors


@contract14.needs(contract14.TEST_STEP, contract14.PINS)
def test_a_step_is_tested_pinned_and_a_side_effect_asks_first(
    page: Page, daphne_server: str, make_user: Any
) -> None:
    errors = collect_errors(page)
    open_designer(page, daphne_server, make_user, "tested")
    panel = page.locator("#panel")

    page.get_by_test_id("node-check").click()
    expect(panel.get_by_role("heading", name="Condition")).to_be_visible()
    panel.get_by_text("Test this step").click()
    # The sample input form comes from the input schema, its example filled in.
    expect(panel.get_by_label("amount *")).to_have_value("1200")
    panel.get_by_role("button", name="Test step").click()
    output = panel.get_by_test_id("test-step-output")
    expect(output).to_be_visible()
    panel.get_by_role("button", name="Pin output").click()
    expect(panel.get_by_test_id("pinned-output")).to_be_visible()
    pins = page.request.get(f"{daphne_server}/api/workflows/tested/draft/pins").json()
    assert "check" in pins

    # Sending mail is a side effect: the server asks, the panel shows it and offers to go on.
    page.get_by_test_id("node-mail").click()
    expect(panel.get_by_role("heading", name="Send email")).to_be_visible()
    panel.get_by_text("Test this step").click()
    panel.get_by_role("button", name="Test step").click()
    expect(panel.get_by_role("button", name="Run it anyway")).to_be_visible()
    assert audit(page, "#panel") == []
    assert [e for e in errors if "409" not in e] == [], errors


@contract14.needs(contract14.TEST_RUN)
def test_the_draft_is_test_run_from_the_toolbar(
    page: Page, daphne_server: str, make_user: Any
) -> None:
    errors = collect_errors(page)
    open_designer(page, daphne_server, make_user, "trial")
    page.get_by_role("toolbar", name="Canvas").get_by_role("button", name="Test run").click()
    dialog = page.get_by_role("dialog", name="Test run of the draft")
    expect(dialog.get_by_label("amount *")).to_have_value("1200")
    assert audit(page, "dialog[open]") == []
    dialog.get_by_label("amount *").fill("1500")
    dialog.get_by_role("button", name="Start test run").click()
    expect(page.get_by_test_id("run-banner")).to_be_visible()
    run = Run.objects.get()
    assert run.is_test and run.input == {"amount": 1500}
    expect(page.get_by_test_id("run-banner").get_by_role("link")).to_have_attribute(
        "href", re.compile(rf"/runs/{run.pk}/$")
    )
    assert errors == [], errors


@contract14.needs(contract14.PEOPLE)
def test_the_people_picker_finds_the_approver(
    page: Page, daphne_server: str, make_user: Any
) -> None:
    errors = collect_errors(page)
    make_user("approver", "approvers", first_name="Ada", last_name="Approver")
    open_designer(page, daphne_server, make_user, "picked")
    page.get_by_role("button", name="Add Approval:").click()
    panel = page.locator("#panel")
    expect(panel.get_by_role("heading", name="Approval")).to_be_visible()
    panel.get_by_role("combobox", name="Assignees").fill("appro")
    found = panel.get_by_role("option").filter(has_text="user").first
    expect(found).not_to_contain_text("Add user")
    found.click()
    expect(panel.get_by_test_id("chip-users-approver")).to_be_visible()
    assert errors == [], errors


# The same change as the test runs brings the publish answer.
@contract14.needs(contract14.TEST_RUN)
def test_publishing_an_unchanged_draft_says_there_is_nothing_to_publish(
    page: Page, daphne_server: str, make_user: Any
) -> None:
    errors = collect_errors(page)
    open_designer(page, daphne_server, make_user, "unchanged")
    publish = page.get_by_role("toolbar", name="Canvas").get_by_role(
        "button", name="Publish", exact=True
    )
    publish.click()
    expect(page.get_by_test_id("notice")).to_have_text("Published version 1.")
    publish.click()
    expect(page.get_by_test_id("notice")).to_contain_text("nothing to publish")
    assert GraphVersion.objects.filter(workflow="unchanged").count() == 1
    assert [e for e in errors if "409" not in e] == [], errors
