"""In Chromium, a manager opens the inbox, reads the expense waiting for them, approves it with a
comment without leaving the page (htmx), and the run waiting on a real worker completes."""

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from engine.models import TaskDecision
from engine.runtime.runs import start_run
from tests.browser.canvas_helpers import collect_errors, log_in, publish_expense_demo
from tests.designer.test_demo_graphs__human_tasks_run_on_a_worker import open_task
from tests.engine.runtime.test_engine__runs_through_real_workers import wait_for_status

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
    # The live refresh that follows every answer leaves the answer for the person to read.
    with page.expect_response(
        lambda r: (
            r.request.method == "GET"
            and "/inbox/" in r.url
            and r.request.headers.get("hx-request") == "true"
        )
    ):
        page.evaluate(
            "document.getElementById('inbox-tasks').dispatchEvent(new CustomEvent('live-update'))"
        )
    expect(page.get_by_role("status")).to_contain_text("You approved “Expense of 400 by eve”.")
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


def test_the_python_expense_demo_is_decided_in_the_inbox(
    page: Page, browser: Any, daphne_server: str, make_user: Any
) -> None:
    """The code demo expense-approval asks its manager, then its VP above 1,000, in their
    inboxes; the employee who asked sees neither as theirs to decide."""
    from django.contrib.auth.models import User

    problems = collect_errors(page)
    for name in ("manny", "vera"):
        make_user(name, "approvers")
    eve = make_user("eve", "operators")
    expense = {"id": "e-77", "amount": 1500, "employee": "eve", "manager": "manny", "vp": "vera"}
    run = start_run("expense-approval", expense, created_by=eve)
    first = open_task(run, "manager-approval")

    log_in(page, daphne_server, "manny")
    page.goto(f"{daphne_server}/inbox/")
    card = page.get_by_test_id(f"task-{first.pk}")
    expect(card).to_contain_text("Expense of 1500 by eve")
    card.get_by_role("button", name="Approve").click()
    expect(page.get_by_role("status")).to_contain_text("You approved")

    second = open_task(run, "vp-approval")
    vera_context = browser.new_context()
    vera = vera_context.new_page()
    log_in(vera, daphne_server, "vera")
    vera.goto(f"{daphne_server}/inbox/{second.pk}/")
    expect(vera.get_by_test_id("task-status")).to_have_text("Open")
    vera.get_by_role("button", name="Approve").click()
    expect(vera.get_by_role("status")).to_contain_text("You approved")
    vera_context.close()

    run = wait_for_status(run, "completed")
    assert run.output == {"status": "approved", "approvals": ["manny", "vera"]}
    assert list(
        TaskDecision.objects.filter(task__run=run)
        .order_by("pk")
        .values_list("user__username", flat=True)
    ) == ["manny", "vera"]
    assert User.objects.get(username="eve").pk == run.created_by_id
    assert problems == [], problems
