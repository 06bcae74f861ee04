"""In Chromium, a manager opens the inbox, reads the expense waiting for them, approves it with a
comment without leaving the page (htmx), and the run waiting on a real worker completes."""

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from engine.actions import start_run
from engine.models import TaskDecision
from tests.browser.canvas_helpers import collect_errors, log_in, publish_expense_demo
from tests.designer.test_demo_graphs__human_tasks_run_on_a_worker import open_task
from tests.engine.test_engine__runs_through_real_workers import wait_for_status

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("celery_worker"),
]


def test_a_manager_approves_an_expense_from_the_inbox(
    page: Page, daphne_server: str, make_user: Any
) -> None:
    problems = collect_errors(page)
    make_user("manny", "approvers")
    expense = publish_expense_demo(make_user)
    run = start_run(expense, {"employee": "eve", "amount": 400, "description": "Train tickets"})
    task = open_task(run, "manager")

    log_in(page, daphne_server, "manny")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Inbox").click()
    expect(page).to_have_url(f"{daphne_server}/inbox/")
    card = page.get_by_test_id(f"task-{task.pk}")
    expect(card.get_by_role("heading")).to_contain_text("Expense of 400 by eve")
    expect(card).to_contain_text("Train tickets")
    expect(card.locator("dt", has_text="amount").locator("+ dd")).to_have_text("400")
    expect(card.get_by_role("link", name=f"Run #{run.pk}")).to_have_attribute(
        "href", f"/runs/{run.pk}/"
    )
    expect(card.get_by_role("button", name="Request changes")).to_have_count(0)

    card.get_by_label("Comment").fill("Receipts look right.")
    with page.expect_response(
        lambda r: (
            r.url.endswith(f"/inbox/{task.pk}/decide")
            and r.request.headers.get("hx-request") == "true"
        )
    ) as answered:
        card.get_by_role("button", name="Approve").click()
    assert answered.value.status == 200

    expect(page.get_by_role("status")).to_contain_text("You approved “Expense of 400 by eve”.")
    expect(card).to_have_count(0)
    expect(page.get_by_text("Nothing waits for you.")).to_be_visible()
    expect(page.get_by_role("region", name="Recently decided by me")).to_contain_text(
        "Expense of 400 by eve"
    )
    expect(page).to_have_url(f"{daphne_server}/inbox/")  # swapped in place, no navigation

    run = wait_for_status(run, "completed")
    assert run.output == {
        "approved": True,
        "outcome": "approved",
        "amount": 400,
        "approved_by": ["manny"],
    }
    assert TaskDecision.objects.get(task=task).comment == "Receipts look right."
    assert problems == [], problems
