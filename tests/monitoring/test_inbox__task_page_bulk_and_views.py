"""Working through many tasks: a task's own page with its context, form and history; forms and
comments that a decision must bring; bulk decisions that keep every rule and say what happened
to each task; filters, pages and saved views in the inbox and the API."""

from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client
from django.utils import timezone

from engine.human import Assignees, decide_task, open_task
from engine.models import HumanTask, Run, SavedView, TaskDecision, TaskKind, TaskStatus
from tests.designer.test_graph_api__draft_publish_run import api

pytestmark = pytest.mark.django_db

COST_CENTRE = {
    "type": "object",
    "required": ["cost_centre"],
    "properties": {
        "cost_centre": {"type": "string", "title": "Cost centre", "enum": ["R&D", "Sales"]},
        "nights": {"type": "integer", "title": "Nights"},
        "urgent": {"type": "boolean", "title": "Urgent"},
    },
}


@pytest.fixture
def people(make_user: Any) -> dict[str, User]:
    finance = Group.objects.create(name="finance")
    found = {name: make_user(name, "approvers") for name in ("ana", "ben", "eve")}
    found["ana"].groups.add(finance)
    found["ben"].groups.add(finance)
    found["otto"] = make_user("otto", "operators")
    return found


def ask(
    title: str, *, started_by: User | None = None, run: Run | None = None, **fields: Any
) -> HumanTask:
    run = run or Run.objects.create(
        workflow=fields.pop("workflow", "expenses"),
        version="t",
        status="waiting",
        created_by=started_by,
        created_at=timezone.now(),
    )
    return open_task(
        run_id=run.pk,
        step_name=fields.pop("step", "ask"),
        kind=fields.pop("kind", TaskKind.APPROVAL),
        title=title,
        assignees=Assignees(
            users=fields.pop("users", ()), groups=fields.pop("groups", ("finance",))
        ),
        **fields,
    )


def token(user: User) -> dict[str, str]:
    from accounts.models import ApiToken

    _, raw = ApiToken.issue(user, "test")
    return {"Authorization": f"Bearer {raw}"}


def test_the_task_page_shows_context_form_earlier_decisions_and_history(
    people: dict[str, User], client: Client
) -> None:
    first = ask("Manager's", step="manager", data={"amount": 300})
    decide_task(first.pk, people["ben"], "approved", comment="fine by me")
    task = ask(
        "Hotel in Lyon",
        run=first.run,
        step="vp",
        description="Two nights",
        data={"amount": 300, "city": "Lyon"},
        form=COST_CENTRE,
        comment_required=["rejected"],
        distinct_from=["manager"],
    )
    client.force_login(people["ana"])
    page = client.get(f"/inbox/{task.pk}/").content.decode()
    assert "<dt>city</dt><dd>Lyon</dd>" in page and "Two nights" in page
    assert 'name="form.cost_centre"' in page and "(needed to approve)" in page
    assert "(needed to reject)" in page
    assert "Manager&#x27;s" in page and "fine by me" in page  # the earlier stage
    assert "decided by someone other than whoever decided <code>manager</code>" in page
    assert "Created" in page  # the history
    # ben decided the earlier stage: his page says why he cannot decide this one
    client.force_login(people["ben"])
    assert (
        "four-eyes: ben decided the &#x27;manager&#x27; stage"
        in client.get(f"/inbox/{task.pk}/").content.decode()
    )
    # someone the task is not for learns nothing of it
    client.force_login(people["eve"])
    assert client.get(f"/inbox/{task.pk}/").status_code == 404


def test_a_decision_must_bring_the_form_and_the_comment_it_needs(
    people: dict[str, User], client: Client
) -> None:
    task = ask("Laptop", form=COST_CENTRE, comment_required=["rejected"])
    client.force_login(people["ana"])
    missing = client.post(f"/inbox/{task.pk}/decide", {"decision": "approved"})
    assert missing.status_code == 422
    assert "form.cost_centre" in missing.content.decode()
    wrong = client.post(
        f"/inbox/{task.pk}/decide",
        {"decision": "approved", "form.cost_centre": "Marketing", "form.nights": "2"},
    )
    assert wrong.status_code == 422 and "form.cost_centre" in wrong.content.decode()
    assert 'value="2"' in wrong.content.decode()  # what was typed comes back
    silent = client.post(f"/inbox/{task.pk}/decide", {"decision": "rejected"})
    assert silent.status_code == 422 and "comment: say why" in silent.content.decode()
    task.refresh_from_db()
    assert task.status == TaskStatus.OPEN and not task.decisions.exists()

    done = client.post(
        f"/inbox/{task.pk}/decide",
        {
            "decision": "approved",
            "form.cost_centre": "R&D",
            "form.nights": "2",
            "form.urgent": "true",
        },
    )
    assert done.status_code == 303
    decision = TaskDecision.objects.get(task=task)
    assert decision.form == {"cost_centre": "R&D", "nights": 2, "urgent": True}


def test_bulk_decisions_keep_every_rule_and_report_each_task(
    people: dict[str, User], client: Client
) -> None:
    ok = ask("Taxi")
    own = ask("Eve's expense", started_by=people["ana"])
    two = ask("Needs two", required=2)
    needs_form = ask("Needs a form", form=COST_CENTRE)
    client.force_login(people["ana"])
    answer = client.post(
        "/inbox/bulk",
        {"decision": "approved", "task": [ok.pk, own.pk, two.pk, needs_form.pk]},
        headers={"HX-Request": "true"},
    )
    html = answer.content.decode()
    assert "2 of 4 tasks approved." in html
    assert "<strong>Taxi</strong>: approved" in html
    assert "<strong>Eve&#x27;s expense</strong>: refused — four-eyes" in html
    assert "<strong>Needs a form</strong>: refused — form.cost_centre" in html
    for task, status in [
        (ok, TaskStatus.APPROVED),
        (own, TaskStatus.OPEN),
        (two, TaskStatus.OPEN),  # one of two approvals
        (needs_form, TaskStatus.OPEN),
    ]:
        task.refresh_from_db()
        assert task.status == status, task.title
    assert client.post("/inbox/bulk", {"decision": "approved", "task": ["x"]}).status_code == 422


def test_filters_pages_and_saved_views_in_the_inbox(
    people: dict[str, User], client: Client
) -> None:
    for number in range(7):
        ask(f"Trip {number}", data={"amount": number * 100}, workflow="travel")
    ask("Chair", workflow="purchases")
    client.force_login(people["ana"])
    page = client.get(
        "/inbox/?workflow=travel&data=amount>=300&limit=2&sort=-created"
    ).content.decode()
    assert page.count('class="card task') == 2
    assert "Trip 6" in page and "Trip 5" in page and "Chair" not in page
    assert 'data-testid="next-page"' in page
    bad = client.get("/inbox/?sort=sideways")
    assert bad.status_code == 422 and "sort: one of" in bad.content.decode()

    saved = client.post(
        "/inbox/views", {"name": "Big trips", "workflow": "travel", "data": "amount>=300"}
    )
    assert saved.status_code == 303
    view = SavedView.objects.get(user=people["ana"])
    assert view.params == {
        "view": "open",
        "workflow": "travel",
        "sort": "due",
        "data": "amount>=300",
    }
    assert "Big trips" in client.get("/inbox/").content.decode()
    assert client.post(f"/inbox/views/{view.pk}/delete").status_code == 303
    assert not SavedView.objects.exists()


def test_the_search_api_pages_with_a_cursor(people: dict[str, User], client: Client) -> None:
    for number in range(5):
        ask(f"Item {number}")
    ana = token(people["ana"])
    first = api(client, "get", "/api/tasks/search?limit=3&sort=created", ana).json()
    assert [task["title"] for task in first["tasks"]] == ["Item 0", "Item 1", "Item 2"]
    rest = api(
        client, "get", f"/api/tasks/search?limit=3&sort=created&cursor={first['next_cursor']}", ana
    ).json()
    assert [task["title"] for task in rest["tasks"]] == ["Item 3", "Item 4"]
    assert rest["next_cursor"] == ""
    refused = api(client, "get", "/api/tasks/search?view=nope", ana)
    assert refused.status_code == 422 and refused.json()["field"] == "view"


def test_the_clock_says_what_comes_next(people: dict[str, User], client: Client) -> None:
    """A task with a reminder, an escalation and a last deadline shows all three."""
    from datetime import timedelta

    task = ask(
        "With a clock",
        due_at=timezone.now() + timedelta(hours=3),
        clock={
            "reminder_seconds": 3600,
            "escalate_to": {"groups": ["finance-leads"]},
            "escalation_seconds": 7200,
        },
    )
    client.force_login(people["ana"])
    page = client.get(f"/inbox/{task.pk}/").content.decode()
    clock = page[page.index('data-testid="task-clock"') :]
    clock = clock[: clock.index("</dd>")]
    assert "due in 2\xa0hours" in clock or "due in 3\xa0hours" in clock
    assert "reminder at" in clock and "escalates to finance-leads at" in clock
    assert "closes at" in clock
    card = client.get("/inbox/").content.decode()
    assert "escalates to finance-leads" in card


def test_the_run_page_shows_each_tasks_history(people: dict[str, User], client: Client) -> None:
    task = ask("Visible on the run")
    decide_task(task.pk, people["ben"], "rejected", comment="over budget")
    client.force_login(people["otto"])
    page = client.get(f"/runs/{task.run_id}/").content.decode()
    section = page[page.index('id="tasks-title"') :]
    assert "Visible on the run" in section
    assert "Decision (rejected)" in section and "ben" in section and "over budget" in section
    assert "Settled (rejected)" in section
