"""In Chromium, a designer copies two states of a machine with the transitions between them and
pastes them under fresh ids, guards and actions kept, undone in one step; duplicates a compound
state with its children; and neither canvas pastes the other kind's copy (machine ↔ workflow)."""

import copy
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from designer.drafts import create_workflow
from designer.machine_drafts import create_machine
from designer.models import Machine, Workflow
from engine.core.machines import STATE_ID
from tests.browser.canvas_helpers import collect_errors, log_in, open_canvas
from tests.browser.test_machine_canvas__draw_publish import open_machine_canvas
from tests.engine.graph.builders import EXPENSE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EMIT_OPENED = {"type": "action.emit", "config": {"type": "Door.opened"}}
EMIT_OPENING = {"type": "action.emit", "config": {"type": "Door.opening"}}

DOOR: dict[str, Any] = {
    "initial": "closed",
    "states": [
        {"id": "closed", "label": "Closed", "position": {"x": 40, "y": 40}},
        {
            "id": "opened",
            "label": "Opened",
            "entry": [EMIT_OPENED],
            "position": {"x": 340, "y": 40},
        },
        {"id": "busy", "label": "Busy", "initial": "busy_a", "position": {"x": 40, "y": 260}},
        {"id": "busy_a", "parent": "busy", "position": {"x": 20, "y": 50}},
        {"id": "busy_b", "parent": "busy", "final": True, "position": {"x": 260, "y": 50}},
    ],
    "transitions": [
        {
            "id": "closed-open",
            "source": "closed",
            "target": "opened",
            "event": "open",
            "guard": "context.unlocked == true",
            "actions": [EMIT_OPENING],
        },
        {"id": "opened-close", "source": "opened", "target": "closed", "event": "close"},
        {"id": "closed-work", "source": "closed", "target": "busy", "event": "work"},
        {"id": "busy_a-next", "source": "busy_a", "target": "busy_b", "event": "next"},
    ],
}


def _draft() -> dict[str, Any]:
    return dict(Machine.objects.get(slug="door").draft)


def _saved(page: Page) -> None:
    expect(page.get_by_test_id("save-status")).to_contain_text("All changes saved")


def test_copy_paste_undo_and_duplicate_a_compound_state(
    page: Page, daphne_server: str, make_user: Any
) -> None:
    errors = collect_errors(page)
    make_user("dora", "designers")
    create_machine(slug="door", title="Door", user=None, definition=copy.deepcopy(DOOR))
    log_in(page, daphne_server, "dora")
    open_machine_canvas(page, daphne_server, "door")

    # Two states, and the two transitions between them come along (not the one to `busy`).
    page.get_by_test_id("node-closed").click()
    page.get_by_test_id("node-opened").click(modifiers=["Shift"])
    page.keyboard.press("Control+c")
    expect(page.get_by_test_id("notice")).to_contain_text("Copied 2 state(s) and 2 transition(s)")
    page.keyboard.press("Control+v")
    expect(page.get_by_test_id("notice")).to_contain_text(
        "Pasted 2 state(s) as 'closed2', 'opened2' and 2 transition(s)"
    )
    expect(page.get_by_test_id("node-closed2")).to_be_visible()
    expect(page.get_by_test_id("node-opened2")).to_be_visible()
    expect(page.get_by_test_id("edge-closed2-open")).to_contain_text(
        "open [context.unlocked == true]"
    )
    expect(page.locator(".react-flow__edge")).to_have_count(6)
    _saved(page)

    draft = _draft()
    states = {row["id"]: row for row in draft["states"]}
    transitions = {row["id"]: row for row in draft["transitions"]}
    assert all(STATE_ID.match(state_id) for state_id in states)
    assert states["opened2"]["entry"] == [EMIT_OPENED]
    assert "parent" not in states["closed2"]
    assert transitions["closed2-open"] == {
        "id": "closed2-open",
        "source": "closed2",
        "target": "opened2",
        "event": "open",
        "guard": "context.unlocked == true",
        "actions": [EMIT_OPENING],
    }
    assert (transitions["opened2-close"]["source"], transitions["opened2-close"]["target"]) == (
        "opened2",
        "closed2",
    )
    # Beside the originals, not on top of them (a state is at least 180 by 64).
    for pasted in ("closed2", "opened2"):
        for original in ("closed", "opened"):
            at, other = states[pasted]["position"], states[original]["position"]
            assert abs(at["x"] - other["x"]) >= 180 or abs(at["y"] - other["y"]) >= 64
    # The machine still starts where it did; the originals are untouched.
    assert draft["initial"] == "closed"
    assert transitions["closed-open"]["source"] == "closed"

    # One undo takes the whole paste away.
    page.get_by_role("button", name="Undo").click()
    expect(page.get_by_test_id("node-closed2")).to_have_count(0)
    expect(page.get_by_test_id("node-opened2")).to_have_count(0)
    expect(page.locator(".react-flow__edge")).to_have_count(4)
    _saved(page)
    draft = _draft()
    assert {row["id"] for row in draft["states"]} == {
        "closed",
        "opened",
        "busy",
        "busy_a",
        "busy_b",
    }
    assert {row["id"] for row in draft["transitions"]} == {
        "closed-open",
        "opened-close",
        "closed-work",
        "busy_a-next",
    }

    # A compound state duplicates with its children, the transition inside and what it enters.
    page.locator(".react-flow__pane").click(position={"x": 5, "y": 5})
    page.get_by_test_id("node-busy").locator(".state-head").click()
    page.keyboard.press("Control+d")
    expect(page.get_by_test_id("notice")).to_contain_text(
        "Pasted 3 state(s) as 'busy2', 'busy_a2', 'busy_b2' and 1 transition(s)"
    )
    expect(page.get_by_test_id("node-busy_a2")).to_be_visible()
    expect(page.get_by_test_id("initial-busy_a2")).to_be_visible()
    _saved(page)
    states = {row["id"]: row for row in _draft()["states"]}
    transitions = {row["id"]: row for row in _draft()["transitions"]}
    assert states["busy2"]["initial"] == "busy_a2"
    assert states["busy_a2"]["parent"] == states["busy_b2"]["parent"] == "busy2"
    assert states["busy_b2"]["final"] is True
    assert (transitions["busy_a2-next"]["source"], transitions["busy_a2-next"]["target"]) == (
        "busy_a2",
        "busy_b2",
    )
    assert errors == [], errors


def test_machine_states_and_workflow_steps_do_not_paste_into_each_other(
    page: Page, daphne_server: str, make_user: Any
) -> None:
    errors = collect_errors(page)
    make_user("dora", "designers")
    create_machine(slug="door", title="Door", user=None, definition=copy.deepcopy(DOOR))
    create_workflow(slug="expense", title="Expense", user=None, graph=copy.deepcopy(EXPENSE))
    machine_revision = Machine.objects.get(slug="door").revision
    workflow_revision = Workflow.objects.get(slug="expense").revision
    log_in(page, daphne_server, "dora")

    # States copied on the machine's canvas are refused by a workflow's canvas…
    open_machine_canvas(page, daphne_server, "door")
    page.get_by_test_id("node-closed").click()
    page.keyboard.press("Control+c")
    expect(page.get_by_test_id("notice")).to_contain_text("Copied 1 state(s)")
    open_canvas(page, daphne_server, "expense")
    nodes = page.locator(".react-flow__node").count()
    page.keyboard.press("Control+v")
    expect(page.get_by_test_id("notice")).to_contain_text(
        "Not pasted: states copied from a state machine paste only into a state machine."
    )
    expect(page.locator(".react-flow__node")).to_have_count(nodes)

    # …and steps copied on a workflow's canvas by the machine's.
    page.get_by_test_id("node-check").click()
    page.keyboard.press("Control+c")
    expect(page.get_by_test_id("notice")).to_contain_text("Copied 1 node(s)")
    open_machine_canvas(page, daphne_server, "door")
    page.keyboard.press("Control+v")
    expect(page.get_by_test_id("notice")).to_contain_text(
        "Not pasted: steps copied from a workflow paste only into a workflow."
    )
    expect(page.locator(".react-flow__node")).to_have_count(5)
    expect(page.get_by_test_id("node-check")).to_have_count(0)

    # Nothing was saved on either side.
    assert Machine.objects.get(slug="door").revision == machine_revision
    assert Workflow.objects.get(slug="expense").revision == workflow_revision
    assert errors == [], errors
