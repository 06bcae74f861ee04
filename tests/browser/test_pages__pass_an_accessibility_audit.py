"""In Chromium, axe-core finds no WCAG 2.1 A/AA problem on the server-rendered pages: home,
designer, workflow settings, runs, a run, the inbox with a task (with a form), a task's page,
the decided view, the out-of-office page, a code workflow's page with its start form, the 404
page, and the login page."""

import json
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from engine.human import Assignees, open_task
from engine.machines.instances import create_instance
from engine.models import TaskKind
from engine.runtime.runs import start_run
from tests.browser.canvas_helpers import audit, log_in, publish_expense_demo

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_pages_pass_an_accessibility_audit(
    page: Page, daphne_server: str, make_user: Any
) -> None:
    make_user("dora", "designers", "operators", "approvers")
    slug = publish_expense_demo(make_user)
    run = start_run("test-wait-simple", {"n": 3})
    task = open_task(
        run_id=run.pk,
        step_name="ask",
        kind=TaskKind.APPROVAL,
        title="Approve the audit",
        data={"amount": 12},
        assignees=Assignees(users=("dora",)),
        form={
            "type": "object",
            "properties": {
                "centre": {"type": "string", "title": "Cost centre", "enum": ["A", "B"]},
                "nights": {"type": "integer", "title": "Nights"},
                "urgent": {"type": "boolean", "title": "Urgent"},
            },
        },
    )

    machine = create_instance("order", "order-audit", {"items": []})

    page.goto(f"{daphne_server}/login/")
    assert audit(page, "body") == [], "login page"
    log_in(page, daphne_server, "dora")
    for path in [
        "/",
        "/designer/",
        f"/designer/{slug}/settings",
        "/runs/",
        f"/runs/{run.pk}/",
        "/inbox/",
        "/inbox/?view=decided",
        f"/inbox/{task.pk}/",
        "/profile/delegation",
        "/machines/",
        "/machines/order/",
        f"/machines/order/instances/{machine.pk}/",
        "/designer/expense-approval/",  # a code workflow: parameters, steps, the start form
        "/no/such/page",  # our 404 page
    ]:
        page.goto(f"{daphne_server}{path}")
        expect(page.locator("main")).to_be_visible()
        violations = audit(page, "body")
        assert violations == [], f"{path}: {json.dumps(violations, indent=1)}"
