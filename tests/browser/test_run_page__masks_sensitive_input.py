"""In Chromium, the run page shows a viewer the input fields marked sensitive as
"•••• (sensitive)", in the input, the output, the journal, the timeline and the step panel,
and nowhere in clear; an operator reads the same page in clear."""

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from engine.runtime.runs import start_run
from tests.browser.canvas_helpers import collect_errors, log_in
from tests.engine.runtime.test_engine__runs_through_real_workers import wait_for_status
from tests.engine.sensitive_flows import SAMPLE_INPUT

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

INPUT = SAMPLE_INPUT
SHOWN = "•••• (sensitive)"


@pytest.mark.usefixtures("celery_worker")
def test_a_viewer_sees_sensitive_values_masked_and_an_operator_clear(
    page: Page, daphne_server: str, make_user: Any
) -> None:
    errors = collect_errors(page)
    make_user("vera", "viewers")
    make_user("olga", "operators")
    run = wait_for_status(start_run("test-sensitive", INPUT), "completed")

    log_in(page, daphne_server, "vera")
    page.goto(f"{daphne_server}/runs/{run.pk}/")
    expect(page.locator("main")).to_contain_text(f'"email": "{SHOWN}"')
    expect(page.locator("main")).to_contain_text(f'"greeting": "Hello {SHOWN}"')
    expect(page.locator("main")).to_contain_text('"name": "Ada"')
    chart = page.get_by_test_id("timeline-rows")
    chart.get_by_role("button", name=f"mail-{SHOWN}", exact=True).click()
    panel = page.get_by_test_id("step-panel")
    expect(panel.locator("[data-panel-title]")).to_have_text(f"mail-{SHOWN}")
    expect(panel.get_by_test_id("step-output")).to_contain_text(f'"card": "{SHOWN}"')
    for clear in ("ada@example.com", "4111 1111 1111"):
        assert clear not in page.content()
    assert "***" not in chart.inner_text()

    page.context.clear_cookies()
    log_in(page, daphne_server, "olga")
    page.goto(f"{daphne_server}/runs/{run.pk}/")
    expect(page.locator("main")).to_contain_text('"email": "ada@example.com"')
    page.get_by_test_id("timeline-rows").get_by_role(
        "button", name="mail-ada@example.com", exact=True
    ).click()
    expect(page.get_by_test_id("step-output")).to_contain_text('"card": "4111 1111 1111"')
    assert SHOWN not in page.content()
    assert errors == [], errors
