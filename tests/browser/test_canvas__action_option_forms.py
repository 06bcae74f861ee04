"""In Chromium, a designer gives an action node a circuit breaker and a rate limit with forms
(names, numbers, durations with the duration editor, a choice for what happens when used up),
never typing JSON; the draft then holds them as the engine reads them. The controls pass the
accessibility audit."""

import json
import re
from typing import Any

import pytest
from playwright.sync_api import Page

from designer.drafts import create_workflow
from designer.models import Workflow
from tests.browser.canvas_helpers import audit, collect_errors, log_in, open_canvas

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def config_of(slug: str, node: str) -> dict[str, Any]:
    nodes = Workflow.objects.get(slug=slug).draft["nodes"]
    return next((item["config"] for item in nodes if item["id"] == node), {})


def wait_for_config(page: Page, slug: str, key: str, wanted: Any) -> None:
    for _ in range(50):
        if config_of(slug, "charge").get(key) == wanted:
            return
        page.wait_for_timeout(100)
    assert config_of(slug, "charge").get(key) == wanted


def test_a_designer_sets_a_breaker_and_a_rate_limit_with_forms(
    page: Page, daphne_server: str, make_user: Any
) -> None:
    errors = collect_errors(page)
    make_user("dora", "designers")
    graph = {
        "nodes": [
            {"id": "charge", "type": "action.python", "config": {"action": "demo.charge-card"}}
        ],
        "edges": [],
    }
    create_workflow(slug="payments", title="Payments", user=None, graph=graph)
    log_in(page, daphne_server, "dora")
    open_canvas(page, daphne_server, "payments")
    panel = page.locator("#panel")
    page.get_by_test_id("node-charge").click()

    breaker = panel.locator("[data-field=circuit_breaker]")
    breaker.get_by_label("Dependency name").fill("card-gateway")
    breaker.get_by_label("Failures that open it").fill("5")
    breaker.get_by_label("Open for", exact=True).fill("2")
    breaker.get_by_label("Open for: unit").select_option("m")
    panel.get_by_label("Label").click()  # leaving the form applies it
    wait_for_config(
        page,
        "payments",
        "circuit_breaker",
        {"name": "card-gateway", "failure_threshold": 5, "cool_down": "2m"},
    )

    limit = panel.locator("[data-field=rate_limit]")
    limit.get_by_label("Limit name").fill("charges")
    limit.get_by_label("Calls").fill("30")
    limit.get_by_role("spinbutton", name=re.compile(r"^Per")).fill("1")
    limit.get_by_label("Per: unit").select_option("m")
    limit.get_by_label("When used up").select_option("fail")
    panel.get_by_label("Label").click()
    wait_for_config(
        page,
        "payments",
        "rate_limit",
        {"name": "charges", "limit": 30, "period": "1m", "on_limit": "fail"},
    )
    violations = audit(page, "#panel")
    assert violations == [], json.dumps(violations, indent=1)
    assert errors == [], errors
