"""In Chromium, a designer draws a state machine on its canvas (states, transitions, a guard, an
entry action through the typed form), sees problems go as they are fixed, reloads and
publishes; the canvas-order demo opens with its states and labelled transitions."""

import pytest
from playwright.sync_api import Page, expect

from designer.demo_machines import load_demo_machines
from designer.machine_drafts import create_machine
from designer.models import Machine
from engine.models import MachineVersion
from tests.browser.canvas_helpers import collect_errors, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def open_machine_canvas(page: Page, base_url: str, slug: str) -> None:
    page.goto(f"{base_url}/designer/machines/{slug}/canvas/")
    expect(page.get_by_role("navigation", name="State palette")).to_be_visible()
    expect(page.locator("html[data-canvas-ready='1']")).to_have_count(1)


def draw_transition(page: Page, source: str, target: str, event: str) -> None:
    """Drag from a state's handle onto another state's input, then name the event."""
    page.get_by_test_id(f"handle-{source}").drag_to(
        page.get_by_test_id(f"node-{target}").locator(".handle-in")
    )
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Event name").fill(event)
    dialog.get_by_role("button", name="Add the transition").click()
    expect(page.get_by_role("dialog")).to_have_count(0)


def rename(page: Page, state: str, new_id: str, label: str) -> None:
    page.get_by_test_id(f"node-{state}").click()
    panel = page.locator("#panel")
    panel.get_by_label("State id").fill(new_id)
    panel.get_by_label("State id").press("Enter")
    expect(page.get_by_test_id(f"node-{new_id}")).to_be_visible()
    panel.get_by_label("Label").fill(label)
    panel.get_by_label("Label").press("Enter")
    expect(page.get_by_test_id(f"node-{new_id}")).to_contain_text(label)


def test_draw_guard_entry_action_reload_and_publish(
    page: Page, daphne_server: str, make_user
) -> None:
    errors = collect_errors(page)
    make_user("dora", "designers")
    create_machine(slug="door", title="Door", user=None)
    log_in(page, daphne_server, "dora")
    page.goto(f"{daphne_server}/designer/machines/door/")
    page.get_by_role("link", name="Open the canvas").click()
    open_machine_canvas(page, daphne_server, "door")

    # Three states from the palette: the first is where the machine starts.
    palette = page.get_by_role("navigation", name="State palette")
    palette.get_by_role("button", name="Add State:").click()
    rename(page, "state", "closed", "Closed")
    expect(page.get_by_test_id("initial-closed")).to_be_visible()
    palette.get_by_role("button", name="Add State:").click()
    rename(page, "state", "opened", "Opened")
    palette.get_by_role("button", name="Add Final state:").click()
    rename(page, "done", "locked", "Locked")
    expect(page.get_by_test_id("node-locked")).to_have_attribute("data-final", "1")
    # Nothing leads to them yet.
    expect(page.get_by_test_id("badge-opened")).to_be_visible()

    # Three transitions drawn between them, named in the dialog.
    draw_transition(page, "closed", "opened", "open")
    draw_transition(page, "opened", "closed", "close")
    draw_transition(page, "closed", "locked", "lock")
    expect(page.locator(".react-flow__edge")).to_have_count(3)
    expect(page.get_by_test_id("edge-closed-open")).to_contain_text("open")
    expect(page.get_by_test_id("badge-opened")).to_have_count(0)

    # A guard that does not compile: its problem shows at the input and on the edge, then goes.
    page.get_by_test_id("edge-closed-lock").click()
    panel = page.locator("#panel")
    expect(panel.get_by_role("heading", name="Transition lock")).to_be_visible()
    guard = panel.get_by_label("Guard", exact=True)
    guard.fill("context.key ==")
    guard.press("Enter")
    expect(page.get_by_test_id("badge-closed-lock")).to_be_visible()
    expect(panel.locator("#transition-guard-problem")).to_be_visible()
    guard.fill('context.key == "brass"')
    guard.press("Enter")
    expect(page.get_by_test_id("badge-closed-lock")).to_have_count(0)
    expect(page.get_by_test_id("edge-closed-lock")).to_contain_text('[context.key == "brass"]')

    # An entry action, configured through its type's form, not as JSON.
    page.get_by_test_id("node-opened").click()
    expect(panel.get_by_role("heading", name="State Opened")).to_be_visible()
    entry = panel.get_by_test_id("actions-entry")
    entry.get_by_label("Type of the new entry action").select_option(label="Emit event")
    entry.get_by_role("button", name="Add entry action").click()
    expect(page.get_by_test_id("badge-opened")).to_be_visible()  # its event type is required
    entry.get_by_label("Event type").fill("Door.opened")
    entry.get_by_label("Event type").press("Tab")
    expect(page.get_by_test_id("badge-opened")).to_have_count(0)
    expect(page.get_by_test_id("problems")).to_contain_text("None: the draft can be published")
    expect(page.get_by_test_id("save-status")).to_contain_text("All changes saved")

    # Undo takes the action's config back, redo restores it.
    page.locator(".react-flow__pane").click(position={"x": 10, "y": 10})
    page.get_by_role("button", name="Undo").click()
    expect(page.get_by_test_id("badge-opened")).to_be_visible()
    page.get_by_role("button", name="Redo").click()
    expect(page.get_by_test_id("badge-opened")).to_have_count(0)
    expect(page.get_by_test_id("save-status")).to_contain_text("All changes saved")

    # From the keyboard, a transition's label selects it and Delete removes it; undo restores it.
    page.get_by_test_id("edge-opened-close").focus()
    page.keyboard.press("Enter")
    expect(panel.get_by_role("heading", name="Transition close")).to_be_visible()
    page.keyboard.press("Delete")
    expect(page.locator(".react-flow__edge")).to_have_count(2)
    page.get_by_role("button", name="Undo").click()
    expect(page.locator(".react-flow__edge")).to_have_count(3)
    expect(page.get_by_test_id("save-status")).to_contain_text("All changes saved")

    # Reloaded, the drawing is the saved draft.
    page.reload()
    open_machine_canvas(page, daphne_server, "door")
    expect(page.locator(".react-flow__node")).to_have_count(3)
    expect(page.get_by_test_id("edge-closed-lock")).to_contain_text('[context.key == "brass"]')
    draft = Machine.objects.get(slug="door").draft
    assert draft["initial"] == "closed"
    assert {state["id"] for state in draft["states"]} == {"closed", "opened", "locked"}
    assert {(t["source"], t["event"], t["target"]) for t in draft["transitions"]} == {
        ("closed", "open", "opened"),
        ("opened", "close", "closed"),
        ("closed", "lock", "locked"),
    }
    lock = next(t for t in draft["transitions"] if t["event"] == "lock")
    assert lock["guard"] == 'context.key == "brass"'
    opened = next(s for s in draft["states"] if s["id"] == "opened")
    assert opened["entry"] == [{"type": "action.emit", "config": {"type": "Door.opened"}}]
    assert next(s for s in draft["states"] if s["id"] == "locked")["final"] is True

    # Published with a note.
    page.get_by_role("button", name="Versions").click()
    page.get_by_label("Note for this version").fill("first door")
    page.get_by_role("button", name="Publish the draft").click()
    expect(page.get_by_test_id("publish-status")).to_contain_text("Published version 1")
    expect(page.get_by_test_id("versions")).to_contain_text("first door")
    version = MachineVersion.objects.get(machine="door", number=1)
    assert version.note == "first door"
    assert version.definition["initial"] == "closed"
    assert errors == [], errors


def test_the_order_demo_opens_with_its_states_and_labelled_transitions(
    page: Page, daphne_server: str, make_user
) -> None:
    errors = collect_errors(page)
    make_user("dora", "designers")
    load_demo_machines(None)
    log_in(page, daphne_server, "dora")
    open_machine_canvas(page, daphne_server, "canvas-order")

    expect(page.locator(".react-flow__node")).to_have_count(7)
    expect(page.locator(".react-flow__edge")).to_have_count(7)
    expect(page.get_by_test_id("initial-draft")).to_be_visible()
    for final in ("returned", "cancelled"):
        expect(page.get_by_test_id(f"node-{final}")).to_have_attribute("data-final", "1")
    for transition, text in {
        "draft-submit": "submit [size(context.items) > 0]",
        "pending-pay": "pay",
        "pending-cancel": "cancel",
        "processing-fulfill": "fulfill",
        "processing-fail": "fail",
        "completed-return": "return [now - timestamp(context.completed_at)",
        "failed-retry": "retry",
    }.items():
        expect(page.get_by_test_id(f"edge-{transition}")).to_contain_text(text)
    expect(page.get_by_test_id("problems")).to_contain_text("None: the draft can be published")
    assert errors == [], errors
