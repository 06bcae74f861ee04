"""In Chromium, an administrator edits a schedule in the Django admin: a bad cron is refused with
its explanation and nothing changes; a good one is saved and the next five fire times show."""

import pytest
from playwright.sync_api import Page, expect

from engine.inbound.schedules import save_schedule
from engine.models import Schedule

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_bad_cron_is_explained_and_a_good_one_previews_five_fires(
    page: Page, daphne_server: str, make_user
) -> None:
    problems: list[str] = []
    page.on(
        "console",
        lambda m: (
            problems.append(f"{m.text} {m.location.get('url')}") if m.type == "error" else None
        ),
    )
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on(
        "response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None
    )
    make_user("root", is_staff=True, is_superuser=True)
    schedule = save_schedule(
        Schedule(
            name="Morning report",
            workflow="test-sequence",
            input={"steps": 1},
            cron="0 9 * * *",
            timezone="Europe/Berlin",
        )
    )
    change = f"/admin/engine/schedule/{schedule.pk}/change/"

    page.goto(f"{daphne_server}/admin/login/?next={change}")
    page.get_by_label("Username").fill("root")
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{daphne_server}{change}")
    expect(page.get_by_test_id("next-fire-times").locator("li")).to_have_count(5)

    page.get_by_label("Cron").fill("61 9 * * 1-5")
    page.get_by_role("button", name="Save and continue editing").click()
    expect(page.locator(".errorlist")).to_contain_text(
        "minute field: 61 is out of range 0\N{EN DASH}59"
    )
    schedule.refresh_from_db()
    assert schedule.cron == "0 9 * * *"

    page.get_by_label("Cron").fill("30 7 * * 1-5")
    page.get_by_label("Timezone").select_option("America/New_York")
    page.get_by_role("button", name="Save and continue editing").click()
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
    fires = page.get_by_test_id("next-fire-times").locator("li")
    expect(fires).to_have_count(5)
    for index in range(5):
        expect(fires.nth(index)).to_contain_text(" 07:30 E")  # EST or EDT
        expect(fires.nth(index)).not_to_contain_text("Sat")
        expect(fires.nth(index)).not_to_contain_text("Sun")
    schedule.refresh_from_db()
    assert (schedule.cron, schedule.timezone) == ("30 7 * * 1-5", "America/New_York")
    assert problems == [], problems
