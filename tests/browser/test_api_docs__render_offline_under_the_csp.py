"""In Chromium, /api/docs renders Swagger UI from our own static files under our strict CSP
(no CDN, no blocked script) and lists the API's operations."""

import pytest
from playwright.sync_api import Page, expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_api_docs_list_the_operations(page: Page, daphne_server: str) -> None:
    problems: list[str] = []
    outside: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on(
        "request",
        lambda r: outside.append(r.url) if not r.url.startswith(daphne_server) else None,
    )

    page.goto(f"{daphne_server}/api/docs")
    operation = page.locator(
        ".opblock-summary-path", has_text="/api/workflows/{slug}/draft/test-run"
    )
    expect(operation.first).to_be_visible(timeout=15_000)
    operation.first.click()
    expect(
        page.get_by_text("Run the saved draft on the workers as a test run").first
    ).to_be_visible()
    expect(page.locator(".opblock-summary-path", has_text="/api/people").first).to_be_visible()
    assert outside == [], outside
    assert not [p for p in problems if "Content Security Policy" in p or "Refused" in p], problems
