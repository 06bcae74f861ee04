"""In Chromium, with the side panel's answers slow to come back, edits made while a post is in
flight still reach the draft: the last one is posted once the answer before it arrives.

The panel posts the whole form at each change. When the server was slow, a change made while
one post was in flight and another already waited was dropped, and so was the control's repost
of it (htmx's default queue holds one request): the schema builder's example never reached the
draft, though the panel said "Applied to the canvas."
"""

import time
from typing import Any

import pytest
from playwright.sync_api import Page, Route, expect

from designer.drafts import create_workflow
from designer.models import Workflow
from tests.browser.canvas_helpers import collect_errors, drag_from_palette, log_in, open_canvas

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def manual_config(slug: str) -> dict[str, Any]:
    nodes = Workflow.objects.get(slug=slug).draft["nodes"]
    return next((item["config"] for item in nodes if item["id"] == "manual"), {})


def test_edits_made_while_posts_are_in_flight_all_reach_the_draft(
    page: Page, daphne_server: str, make_user: Any
) -> None:
    errors = collect_errors(page)
    make_user("dora", "designers")
    create_workflow(slug="slow-panel", title="Slow panel", user=None)
    log_in(page, daphne_server, "dora")
    open_canvas(page, daphne_server, "slow-panel")
    drag_from_palette(page, "Manual start", 160, 160)
    page.get_by_test_id("node-manual").click()
    panel = page.locator("#panel")
    expect(panel.get_by_role("heading", name="Manual start")).to_be_visible()

    # The panel's posts are held in the browser and let through one at a time below, as a
    # busy server's answers would come: the edits after the first are made while it is in flight.
    held: list[Route] = []
    page.route(
        "**/panel*",
        lambda route: held.append(route) if route.request.method == "POST" else route.continue_(),
    )

    panel.get_by_role("button", name="Add a field to input schema").click()
    panel.get_by_label("Field name 1").fill("amount")
    panel.get_by_label("Type of amount").select_option("number")  # posts at once: in flight
    panel.get_by_label("amount is required").check()  # posts at once: waits for the first
    panel.get_by_label("Example of amount").fill("1200")
    panel.get_by_label("Label").click()  # leaving the builder posts again: the last edit

    wanted = {
        "type": "object",
        "properties": {"amount": {"type": "number", "examples": [1200]}},
        "required": ["amount"],
    }
    deadline = time.monotonic() + 20
    while held or manual_config("slow-panel").get("input_schema") != wanted:
        assert time.monotonic() < deadline, manual_config("slow-panel")
        if held:
            held.pop(0).continue_()
        page.wait_for_timeout(300)
    # Whatever is posted after (a control's repost) goes through too, and undoes nothing.
    for _ in range(5):
        page.wait_for_timeout(300)
        while held:
            held.pop(0).continue_()
    assert manual_config("slow-panel").get("input_schema") == wanted
    expect(panel.get_by_label("Example of amount")).to_have_value("1200")
    expect(panel.get_by_label("amount is required")).to_be_checked()
    assert errors == []
