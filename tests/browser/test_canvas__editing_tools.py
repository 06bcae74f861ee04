"""In Chromium: copy and paste across workflows, duplicate, shortcuts and their help, the
minimap, problems that jump to their node, switch cases as handles, versions compared."""

import copy
import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from designer.drafts import create_workflow, publish, save_draft
from designer.models import Workflow
from tests.browser.canvas_helpers import collect_errors, log_in, open_canvas
from tests.engine.graph.builders import EXPENSE, document, edge, node

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _node_ids(slug: str) -> list[str]:
    return [item["id"] for item in Workflow.objects.get(slug=slug).draft["nodes"]]


def _open_as_designer(page: Page, server: str, make_user: Any, slug: str, graph: Any) -> None:
    make_user("dora", "designers")
    create_workflow(slug=slug, title=slug.title(), user=None, graph=graph)
    log_in(page, server, "dora")
    open_canvas(page, server, slug)


def _saved(page: Page) -> None:
    expect(page.get_by_test_id("save-status")).to_contain_text("All changes saved")


def test_copy_paste_between_workflows_and_duplicate(
    page: Page, daphne_server: str, make_user
) -> None:
    errors = collect_errors(page)
    make_user("dora", "designers")
    create_workflow(slug="source", title="Source", user=None, graph=copy.deepcopy(EXPENSE))
    create_workflow(slug="target", title="Target", user=None)
    log_in(page, daphne_server, "dora")

    # Copy two connected nodes in one workflow…
    open_canvas(page, daphne_server, "source")
    page.get_by_test_id("node-check").click()
    page.get_by_test_id("node-vp").click(modifiers=["Shift"])
    page.keyboard.press("Control+c")
    expect(page.get_by_test_id("notice")).to_contain_text("Copied 2 node(s)")

    # …and paste them into another, with their config and the edge between them.
    open_canvas(page, daphne_server, "target")
    page.keyboard.press("Control+v")
    expect(page.get_by_test_id("notice")).to_contain_text("Pasted 2 node(s)")
    expect(page.get_by_test_id("node-check")).to_be_visible()
    expect(page.get_by_test_id("node-vp")).to_be_visible()
    expect(page.locator(".react-flow__edge")).to_have_count(1)
    _saved(page)
    draft = Workflow.objects.get(slug="target").draft
    pasted = {item["id"]: item for item in draft["nodes"]}
    assert pasted["check"]["config"] == {"expression": "input.amount > 1000"}
    assert [(e["source"], e["target"], e.get("handle")) for e in draft["edges"]] == [
        ("check", "vp", "true")
    ]

    # Duplicating the pasted selection renames the copies instead of clashing.
    page.keyboard.press("Control+d")
    expect(page.get_by_test_id("notice")).to_contain_text("Pasted 2 node(s)")
    expect(page.locator(".react-flow__node")).to_have_count(4)
    expect(page.locator(".react-flow__edge")).to_have_count(2)
    _saved(page)
    ids = _node_ids("target")
    assert len(ids) == len(set(ids)) == 4

    # Undo takes the duplicate away again.
    page.keyboard.press("Control+z")
    expect(page.locator(".react-flow__node")).to_have_count(2)
    _saved(page)
    assert sorted(_node_ids("target")) == ["check", "vp"]
    assert errors == [], errors


def test_shortcuts_help_minimap_zoom_snap_and_delete(
    page: Page, daphne_server: str, make_user
) -> None:
    errors = collect_errors(page)
    _open_as_designer(page, daphne_server, make_user, "keys", copy.deepcopy(EXPENSE))

    expect(page.get_by_role("img", name="Minimap")).to_be_visible()
    page.keyboard.press("?")
    help_dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(help_dialog).to_be_visible()
    expect(help_dialog).to_contain_text("connect the selected step")
    expect(help_dialog).to_contain_text("undo / redo")
    page.keyboard.press("Escape")
    expect(help_dialog).to_have_count(0)

    viewport = page.locator(".react-flow__viewport")
    before = viewport.get_attribute("style")
    page.keyboard.press("=")
    expect(viewport).not_to_have_attribute("style", before or "")

    snap = page.get_by_role("checkbox", name="Snap")
    expect(snap).to_be_checked()
    page.keyboard.press("g")
    expect(snap).not_to_be_checked()

    # "/" searches the palette; Enter adds the first match.
    page.keyboard.press("/")
    expect(page.get_by_role("searchbox", name="Search node types")).to_be_focused()
    page.keyboard.type("send email")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("node-email")).to_be_visible()

    # Shift+drag draws a selection box around every step.
    page.locator(".react-flow__pane").click(position={"x": 5, "y": 5})
    expect(page.locator(".react-flow__node.selected")).to_have_count(0)
    box = page.locator(".flow-wrapper").bounding_box()
    assert box is not None
    page.keyboard.down("Shift")
    page.mouse.move(box["x"] + 3, box["y"] + 3)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] - 3, box["y"] + box["height"] - 3, steps=8)
    page.mouse.up()
    page.keyboard.up("Shift")
    expect(page.locator(".react-flow__node.selected")).to_have_count(5)

    # Select everything and delete it; undo brings it back.
    page.locator(".react-flow__pane").click(position={"x": 5, "y": 5})
    page.keyboard.press("Control+a")
    page.keyboard.press("Delete")
    expect(page.locator(".react-flow__node")).to_have_count(0)
    page.keyboard.press("Control+z")
    expect(page.locator(".react-flow__node")).to_have_count(5)
    expect(page.locator(".react-flow__edge")).to_have_count(4)
    _saved(page)
    assert len(_node_ids("keys")) == 5
    assert errors == [], errors


def test_problems_jump_to_their_node_and_switch_cases_become_handles(
    page: Page, daphne_server: str, make_user
) -> None:
    errors = collect_errors(page)
    graph = document(
        [
            node("start", "trigger.manual"),
            node("route", "logic.switch", cases=[{"name": "big", "when": "input.amount > 100"}]),
            node("broken", "flow.set"),
        ],
        [edge("start", "route"), edge("route", "broken", "big")],
    )
    _open_as_designer(page, daphne_server, make_user, "routes", graph)

    expect(page.get_by_test_id("handle-route-big")).to_be_visible()
    expect(page.get_by_test_id("handle-route-default")).to_be_visible()

    # The problems list names the node; choosing it selects the node and opens its settings.
    problems = page.get_by_test_id("problems")
    expect(problems).to_contain_text("broken")
    problems.get_by_role("button", name="broken").click()
    expect(page.locator(".react-flow__node[data-id='broken']")).to_have_class(
        re.compile(r"\bselected\b")
    )
    expect(page.locator("#panel").get_by_role("heading", name="Set variables")).to_be_visible()

    # A new case typed in the side panel becomes a labelled output on the canvas.
    page.get_by_test_id("node-route").click()
    panel = page.locator("#panel")
    expect(panel.get_by_role("heading", name="Switch")).to_be_visible()
    panel.locator("[data-field=cases]").get_by_role("button", name="Edit as JSON").click()
    panel.get_by_label("Cases (JSON)").fill(
        '[{"name": "big", "when": "input.amount > 100"},'
        ' {"name": "small", "when": "input.amount < 10"}]'
    )
    panel.get_by_role("button", name="Apply").click()
    expect(page.get_by_test_id("handle-route-small")).to_be_visible()
    _saved(page)
    route = next(
        item for item in Workflow.objects.get(slug="routes").draft["nodes"] if item["id"] == "route"
    )
    assert [case["name"] for case in route["config"]["cases"]] == ["big", "small"]
    assert errors == [], errors


def test_two_versions_are_compared_on_the_canvas(page: Page, daphne_server: str, make_user) -> None:
    errors = collect_errors(page)
    make_user("dora", "designers")
    first = copy.deepcopy(EXPENSE)
    first["nodes"][2] = node("vp", "flow.set", values={"asked": True})
    workflow, _ = create_workflow(slug="diffed", title="Diffed", user=None, graph=first)
    publish(workflow, None, note="first")
    changed = copy.deepcopy(first)
    changed["nodes"] = [item for item in changed["nodes"] if item["id"] != "vp"]
    changed["edges"] = [
        item for item in changed["edges"] if "vp" not in (item["source"], item["target"])
    ]
    changed["nodes"][1]["config"]["expression"] = "input.amount > 5000"
    changed["nodes"].append(node("log", "flow.set", values={"seen": True}))
    changed["edges"].append(edge("check", "log", "true"))
    changed["edges"].append(edge("log", "done"))
    save_draft(workflow, changed, workflow.revision, None)

    log_in(page, daphne_server, "dora")
    open_canvas(page, daphne_server, "diffed")
    page.get_by_role("button", name="Versions").click()
    dialog = page.get_by_role("dialog", name="Versions")
    expect(dialog.get_by_test_id("versions")).to_contain_text("first")
    dialog.get_by_label("From").select_option("1")
    dialog.get_by_label("To").select_option("draft")
    dialog.get_by_role("button", name="Show the difference").click()

    banner = page.get_by_test_id("diff-banner")
    expect(banner).to_contain_text("v1 → the draft")
    expect(banner).to_contain_text("added 1")
    expect(banner).to_contain_text("changed 1")
    expect(banner).to_contain_text("removed 1")
    expect(page.get_by_test_id("node-log")).to_have_attribute("data-diff", "added")
    expect(page.get_by_test_id("node-check")).to_have_attribute("data-diff", "changed")
    expect(page.get_by_test_id("node-vp")).to_have_attribute("data-diff", "removed")
    expect(page.get_by_test_id("node-done")).to_have_attribute("data-diff", "")
    # While comparing, nothing can be edited.
    expect(page.get_by_role("button", name="Add Send email:")).to_be_disabled()

    banner.get_by_role("button", name="Back to editing").click()
    expect(page.get_by_test_id("node-vp")).to_have_count(0)
    expect(page.get_by_test_id("node-log")).to_have_attribute("data-diff", "")
    expect(page.get_by_role("button", name="Add Send email:")).to_be_enabled()
    assert errors == [], errors
