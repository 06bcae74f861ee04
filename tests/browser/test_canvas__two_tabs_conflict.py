"""Two tabs edit one draft: a stale save is refused and the user chooses; no edit is lost."""

import pytest
from playwright.sync_api import Browser, expect

from designer.drafts import create_workflow
from designer.models import Workflow
from tests.browser.canvas_helpers import log_in, open_canvas

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_stale_tab_is_told_and_can_reload_or_overwrite(
    browser: Browser, daphne_server: str, make_user
) -> None:
    make_user("dora", "designers")
    create_workflow(slug="shared", title="Shared", user=None)
    first, second = browser.new_page(), browser.new_page()
    for page in (first, second):
        log_in(page, daphne_server, "dora")
        open_canvas(page, daphne_server, "shared")

    # The first tab saves; the second tab, still on the old revision, edits too.
    first.get_by_role("button", name="Add Manual start:").click()
    expect(first.get_by_test_id("save-status")).to_contain_text("All changes saved · rev 2")
    second.get_by_role("button", name="Add Send email:").click()
    conflict = second.get_by_test_id("conflict")
    expect(conflict).to_contain_text("Someone else saved this draft meanwhile")
    expect(second.get_by_test_id("node-email")).to_be_visible()
    assert [node["id"] for node in Workflow.objects.get(slug="shared").draft["nodes"]] == ["manual"]

    # Reloading shows their draft; undo brings the discarded edit back, and it saves.
    conflict.get_by_role("button", name="Reload their draft").click()
    expect(second.get_by_test_id("node-manual")).to_be_visible()
    expect(second.get_by_test_id("node-email")).to_have_count(0)
    second.locator(".react-flow__pane").click(position={"x": 10, "y": 10})
    second.keyboard.press("Control+z")
    expect(second.get_by_test_id("node-email")).to_be_visible()
    expect(second.get_by_test_id("save-status")).to_contain_text("All changes saved · rev 3")

    # Now the first tab is stale: its next edit is refused too, and it overwrites knowingly.
    first.get_by_role("button", name="Add Delay:").click()
    expect(first.get_by_test_id("conflict")).to_be_visible()
    first.get_by_role("button", name="Overwrite with mine").click()
    expect(first.get_by_test_id("save-status")).to_contain_text("All changes saved · rev 4")
    ids = [node["id"] for node in Workflow.objects.get(slug="shared").draft["nodes"]]
    assert ids == ["manual", "delay"]
