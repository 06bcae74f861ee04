"""In Chromium, a designer compares two published versions of a machine on its canvas: the added
state and transitions, the transition whose guard changed and the removed transition are marked,
nothing can be edited meanwhile, and the banner leads back to the draft, which stayed as it was."""

import copy
import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from designer.machine_drafts import create_machine, publish_machine_draft, save_machine_draft
from designer.models import Machine
from tests.browser.canvas_helpers import audit, collect_errors, log_in
from tests.browser.test_machine_canvas__draw_publish import open_machine_canvas

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _state(state_id: str, x: int, y: int, **more: Any) -> dict[str, Any]:
    return {"id": state_id, "label": state_id.title(), "position": {"x": x, "y": y}, **more}


def _on(source: str, event: str, target: str, **more: Any) -> dict[str, Any]:
    return {"id": f"{source}-{event}", "source": source, "event": event, "target": target, **more}


DOOR_V1: dict[str, Any] = {
    "initial": "closed",
    "states": [
        _state("closed", 40, 40),
        _state("opened", 340, 40),
        _state("locked", 40, 260, final=True),
    ],
    "transitions": [
        _on("closed", "open", "opened"),
        _on("opened", "close", "closed"),
        _on("closed", "lock", "locked", guard='context.key == "brass"'),
    ],
}


def _door_v2() -> dict[str, Any]:
    """A jammed state reached from `opened`, a new key, and `close` taken out."""
    door = copy.deepcopy(DOOR_V1)
    door["states"].append(_state("jammed", 640, 40))
    door["transitions"] = [t for t in door["transitions"] if t["id"] != "opened-close"]
    door["transitions"] += [_on("opened", "jam", "jammed"), _on("jammed", "free", "closed")]
    lock = next(t for t in door["transitions"] if t["id"] == "closed-lock")
    lock["guard"] = 'context.key == "steel"'
    return door


def test_two_published_versions_are_compared_on_the_canvas(
    page: Page, daphne_server: str, make_user: Any
) -> None:
    errors = collect_errors(page)
    make_user("dora", "designers")
    machine, problems = create_machine(
        slug="door", title="Door", user=None, definition=copy.deepcopy(DOOR_V1)
    )
    assert problems == []
    publish_machine_draft(machine, None, "brass key")
    save_machine_draft(machine, _door_v2(), machine.revision, None)
    publish_machine_draft(machine, None, "steel key, jams")
    revision = Machine.objects.get(slug="door").revision

    log_in(page, daphne_server, "dora")
    open_machine_canvas(page, daphne_server, "door")
    page.get_by_role("button", name="Versions").click()
    dialog = page.get_by_role("dialog", name="Versions")
    expect(dialog.get_by_test_id("versions")).to_contain_text("steel key, jams")
    dialog.get_by_label("From").select_option("1")
    dialog.get_by_label("To").select_option("2")
    dialog.get_by_role("button", name="Show the difference").click()
    expect(page.get_by_role("dialog")).to_have_count(0)

    # States and transitions counted together: jammed, opened-jam and jammed-free are new.
    banner = page.get_by_test_id("diff-banner")
    expect(banner).to_contain_text("v1 → v2")
    expect(banner).to_contain_text("added 3")
    expect(banner).to_contain_text("changed 1")
    expect(banner).to_contain_text("removed 1")
    expect(page.get_by_test_id("node-jammed")).to_have_attribute("data-diff", "added")
    expect(page.get_by_test_id("edge-opened-jam")).to_have_attribute("data-diff", "added")
    lock = page.get_by_test_id("edge-closed-lock")
    expect(lock).to_have_attribute("data-diff", "changed")
    expect(lock).to_contain_text('[context.key == "steel"]')
    expect(lock).to_have_attribute("aria-label", re.compile(r"\(changed: guard\)"))
    # The removed transition is drawn from the older version, marked as gone.
    expect(page.get_by_test_id("edge-opened-close")).to_have_attribute("data-diff", "removed")
    expect(page.get_by_test_id("node-closed")).to_have_attribute("data-diff", "")
    expect(page.get_by_test_id("edge-closed-open")).to_have_attribute("data-diff", "")
    assert audit(page, "[data-testid=diff-banner]", ".react-flow__nodes") == []

    # While comparing, nothing can be edited: not from the palette, not from the keyboard.
    expect(
        page.get_by_role("navigation", name="State palette").get_by_role(
            "button", name="Add State:"
        )
    ).to_be_disabled()
    page.get_by_test_id("node-jammed").click()
    page.keyboard.press("Delete")
    page.keyboard.press("Control+d")
    expect(page.get_by_test_id("notice")).to_contain_text("Not while comparing versions")
    expect(page.get_by_test_id("node-jammed")).to_be_visible()
    expect(page.locator(".react-flow__node")).to_have_count(4)
    expect(page.locator("#panel").get_by_role("heading", name="State Jammed")).to_have_count(0)

    banner.get_by_role("button", name="Back to editing").click()
    expect(page.get_by_test_id("diff-banner")).to_have_count(0)
    expect(page.get_by_test_id("edge-opened-close")).to_have_count(0)
    expect(page.get_by_test_id("node-jammed")).to_have_attribute("data-diff", "")
    expect(page.get_by_test_id("edge-closed-lock")).to_have_attribute("data-diff", "")
    expect(
        page.get_by_role("navigation", name="State palette").get_by_role(
            "button", name="Add State:"
        )
    ).to_be_enabled()
    expect(page.get_by_test_id("save-status")).to_contain_text("All changes saved")
    # Comparing saved nothing.
    assert Machine.objects.get(slug="door").revision == revision
    assert errors == [], errors


def test_the_draft_compared_with_the_published_version_shows_a_removed_state(
    page: Page, daphne_server: str, make_user: Any
) -> None:
    errors = collect_errors(page)
    make_user("dora", "designers")
    machine, _ = create_machine(slug="door", title="Door", user=None, definition=_door_v2())
    publish_machine_draft(machine, None, "with jams")
    fixed = _door_v2()
    fixed["states"] = [s for s in fixed["states"] if s["id"] != "jammed"]
    fixed["transitions"] = [
        t for t in fixed["transitions"] if "jammed" not in (t["source"], t["target"])
    ]
    fixed["transitions"].append(_on("opened", "close", "closed"))
    save_machine_draft(machine, fixed, machine.revision, None)

    log_in(page, daphne_server, "dora")
    open_machine_canvas(page, daphne_server, "door")
    expect(page.get_by_test_id("node-jammed")).to_have_count(0)
    page.get_by_role("button", name="Versions").click()
    dialog = page.get_by_role("dialog", name="Versions")
    dialog.get_by_label("From").select_option("1")
    dialog.get_by_label("To").select_option("draft")
    dialog.get_by_role("button", name="Show the difference").click()

    banner = page.get_by_test_id("diff-banner")
    expect(banner).to_contain_text("v1 → the draft")
    expect(banner).to_contain_text("removed 3")
    expect(page.get_by_test_id("node-jammed")).to_have_attribute("data-diff", "removed")
    expect(page.get_by_test_id("edge-jammed-free")).to_have_attribute("data-diff", "removed")
    expect(page.get_by_test_id("edge-opened-jam")).to_have_attribute("data-diff", "removed")
    expect(page.get_by_test_id("edge-opened-close")).to_have_attribute("data-diff", "added")
    banner.get_by_role("button", name="Back to editing").click()
    expect(page.get_by_test_id("node-jammed")).to_have_count(0)
    assert errors == [], errors
