"""In Chromium, a designer limits an action node with its Bulkhead form (a resource name and
"at most at once", no JSON): the draft keeps both; a wrong name is reported on that field."""

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from designer.drafts import create_workflow
from designer.models import Workflow
from tests.browser.canvas_helpers import log_in, open_canvas

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def bulkhead_of(slug: str) -> Any:
    nodes = Workflow.objects.get(slug=slug).draft["nodes"]
    return next((node["config"].get("bulkhead") for node in nodes if node["id"] == "email"), None)


def test_a_designer_sets_a_bulkhead_with_the_form(
    page: Page, daphne_server: str, make_user: Any
) -> None:
    make_user("dora", "designers")
    create_workflow(slug="mailing", title="Mailing", user=None)
    log_in(page, daphne_server, "dora")
    open_canvas(page, daphne_server, "mailing")
    panel = page.locator("#panel")
    page.get_by_role("button", name="Add Send email:").click()
    page.get_by_test_id("node-email").click()
    expect(panel.get_by_role("heading", name="Send email")).to_be_visible()
    form = panel.locator("[data-field=bulkhead]")
    form.get_by_label("Resource name").fill("mail-relay")
    form.get_by_label("At most at once").fill("3")
    panel.get_by_label("Subject").click()  # leaving the form applies it
    for _ in range(50):
        if bulkhead_of("mailing") == {"name": "mail-relay", "max_concurrent": 3}:
            break
        page.wait_for_timeout(100)
    assert bulkhead_of("mailing") == {"name": "mail-relay", "max_concurrent": 3}

    form.get_by_label("Resource name").fill("Mail Relay")
    panel.get_by_label("Subject").click()
    expect(form.locator(".problem-text")).to_contain_text(
        re.compile(r"name: must be lowercase letters, digits")
    )
