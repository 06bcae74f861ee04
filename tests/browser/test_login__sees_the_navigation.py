"""In Chromium, a user logs in through the real page and sees the navigation."""

import re

import pytest
from playwright.sync_api import Page, expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_log_in_see_navigation_and_log_out(page: Page, daphne_server: str, make_user) -> None:
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on(
        "response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None
    )
    make_user("dina", "designers")

    page.goto(f"{daphne_server}/runs/")
    expect(page).to_have_url(f"{daphne_server}/login/?next=/runs/")
    page.get_by_label("Username").fill("dina")
    page.get_by_label("Password").fill("wrong")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_contain_text("correct username and password")

    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{daphne_server}/runs/")
    nav = page.get_by_role("navigation", name="Main")
    for label in ("Designer", "Runs", "Inbox"):
        expect(nav.get_by_role("link", name=label)).to_be_visible()
    expect(nav.get_by_role("link", name="Runs")).to_have_attribute("aria-current", "page")

    nav.get_by_role("link", name="Designer").click()
    expect(page.get_by_role("heading", name="Designer")).to_be_visible()
    # htmx loaded from our own static files under the strict CSP.
    assert page.evaluate("typeof htmx") == "object"

    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(f"{daphne_server}/login/")
    assert problems == [], problems


def test_the_overview_refreshes_the_system_card_with_htmx(
    page: Page, daphne_server: str, make_user
) -> None:
    make_user("vera", "viewers")
    page.goto(f"{daphne_server}/login/")
    page.get_by_label("Username").fill("vera")
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Log in").click()
    status = page.get_by_test_id("system-status")
    expect(status).to_have_text(re.compile("^(ok|degraded)$"))
    with page.expect_response(
        lambda r: r.url == f"{daphne_server}/" and r.request.headers.get("hx-request") == "true",
        timeout=10_000,
    ):
        pass
    expect(page.locator("#system")).to_have_count(1)
