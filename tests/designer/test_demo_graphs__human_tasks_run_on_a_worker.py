"""The canvas demos with people in the loop (expense approval, document review), published and
started through the API, decided through the task API, run on a real worker and timer loop:
approvals, rejections, a second approval above 1000, changes, reminders and timeouts."""

import time
from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client

from accounts.models import ApiToken
from designer.demo_graphs import demo_graph
from engine.models import Event, HumanTask, Run
from tests.designer.test_graph_api__draft_publish_run import api
from tests.engine.runtime.test_engine__runs_through_real_workers import wait_for_status
from tests.processes import RunningProcess

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("celery_worker", "timer_loop"),
]

EXPENSE = "canvas-expense-approval"
REVIEW = "canvas-document-review"


def bearer(username: str, *groups: str, **fields: Any) -> dict[str, str]:
    """A user (no password: tokens only, and no slow hashing) and a bearer header for them."""
    user = User.objects.create(username=username, **fields)
    user.groups.set([Group.objects.get_or_create(name=group)[0] for group in groups])
    _, raw = ApiToken.issue(user, "ci")
    return {"Authorization": f"Bearer {raw}"}


@pytest.fixture
def people() -> dict[str, dict[str, str]]:
    """The users the demos name: the approvers group, the VP (admin) and two reviewers."""
    return {
        "designer": bearer("designer", "designers", email="designer@example.com"),
        "approver": bearer("approver", "approvers", email="approver@example.com"),
        "admin": bearer("admin", is_superuser=True, is_staff=True),
        "operator": bearer("operator", "operators"),
    }


def publish(client: Client, headers: dict[str, str], slug: str, graph: dict[str, Any]) -> None:
    created = api(
        client, "post", "/api/workflows", headers, {"slug": slug, "title": slug, "graph": graph}
    )
    assert created.status_code == 201, created.json()
    assert created.json()["problems"] == []
    published = api(client, "post", f"/api/workflows/{slug}/publish", headers, {"note": "test"})
    assert published.status_code == 201, published.json()


def start(client: Client, headers: dict[str, str], slug: str, input: Any) -> Run:
    started = api(client, "post", f"/api/workflows/{slug}/runs", headers, {"input": input})
    assert started.status_code == 201, started.json()
    return Run.objects.get(pk=started.json()["id"])


def open_task(run: Run, step_name: str, timeout: float = 20) -> HumanTask:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        task = HumanTask.objects.filter(run=run, step_name=step_name, status="open").first()
        if task is not None:
            return task
        time.sleep(0.05)
    run.refresh_from_db()
    raise AssertionError(f"run {run.pk} ({run.status}) opened no task {step_name!r}: {run.error}")


def decide(
    client: Client, headers: dict[str, str], task: HumanTask, decision: str, comment: str = ""
) -> None:
    answer = api(
        client,
        "post",
        f"/api/tasks/{task.pk}/decide",
        headers,
        {"decision": decision, "comment": comment},
    )
    assert answer.status_code == 200, answer.json()


def quick(slug: str, **timing: dict[str, str]) -> dict[str, Any]:
    """A copy of a demo graph whose human nodes wait seconds, not days."""
    graph = demo_graph(slug).graph
    for node in graph["nodes"]:
        if node["id"] in timing:
            node["config"].pop("reminder", None)
            node["config"].update(timing[node["id"]])
    return graph


def test_expense_up_to_1000_needs_the_manager_above_it_the_vp_as_well(
    client: Client, people: dict[str, dict[str, str]]
) -> None:
    publish(client, people["designer"], EXPENSE, demo_graph(EXPENSE).graph)
    small = start(
        client,
        people["operator"],
        EXPENSE,
        {"employee": "eve", "amount": 400, "description": "Train tickets"},
    )
    large = start(
        client,
        people["operator"],
        EXPENSE,
        {"employee": "eve", "amount": 2500, "description": "Conference"},
    )

    manager_task = open_task(small, "manager")
    assert manager_task.title == "Expense of 400 by eve"
    large_task = open_task(large, "manager")
    inbox = api(client, "get", "/api/tasks", people["approver"]).json()
    assert {task["id"] for task in inbox} == {manager_task.pk, large_task.pk}
    assert api(client, "get", "/api/tasks", people["admin"]).json() == []
    decide(client, people["approver"], manager_task, "approved", "ok")
    small = wait_for_status(small, "completed")
    assert small.output == {
        "approved": True,
        "outcome": "approved",
        "amount": 400,
        "approved_by": ["approver"],
    }
    assert not HumanTask.objects.filter(run=small, step_name="vp").exists()

    decide(client, people["approver"], large_task, "approved")
    vp_task = open_task(large, "vp")
    assert vp_task.data["manager"] == "approver"
    refused = api(
        client,
        "post",
        f"/api/tasks/{vp_task.pk}/decide",
        people["approver"],
        {"decision": "approved"},
    )
    assert refused.status_code == 403  # the VP task is the admin's alone
    decide(client, people["admin"], vp_task, "approved", "fine")
    large = wait_for_status(large, "completed")
    assert large.output["approved_by"] == ["approver", "admin"]


def test_a_rejected_expense_ends_saying_who_rejected_it_and_why(
    client: Client, people: dict[str, dict[str, str]]
) -> None:
    publish(client, people["designer"], EXPENSE, demo_graph(EXPENSE).graph)
    by_manager = start(
        client, people["operator"], EXPENSE, {"employee": "eve", "amount": 90, "description": "x"}
    )
    by_vp = start(
        client, people["operator"], EXPENSE, {"employee": "eve", "amount": 5000, "description": "y"}
    )
    decide(client, people["approver"], open_task(by_manager, "manager"), "rejected", "no receipt")
    decide(client, people["approver"], open_task(by_vp, "manager"), "approved")
    decide(client, people["admin"], open_task(by_vp, "vp"), "rejected", "over budget")

    assert wait_for_status(by_manager, "completed").output == {
        "approved": False,
        "outcome": "rejected",
        "rejected_by": "approver",
        "comment": "no receipt",
    }
    assert wait_for_status(by_vp, "completed").output == {
        "approved": False,
        "outcome": "rejected",
        "rejected_by": "admin",
        "comment": "over budget",
    }


def test_an_expense_nobody_decides_times_out_after_the_reminder(
    client: Client, people: dict[str, dict[str, str]], celery_worker: RunningProcess
) -> None:
    slug = f"{EXPENSE}-quick"
    publish(
        client,
        people["designer"],
        slug,
        quick(EXPENSE, manager={"reminder": "0.5s", "timeout": "1.5s"}),
    )
    run = start(
        client, people["operator"], slug, {"employee": "eve", "amount": 75, "description": "z"}
    )
    task = open_task(run, "manager")
    run = wait_for_status(run, "completed")
    assert run.output == {
        "approved": False,
        "outcome": "timeout",
        "reason": "nobody decided before the deadline",
    }
    task.refresh_from_db()
    assert task.status == "timed_out"
    assert task.reminded_at is not None and task.reminded_at < task.decided_at
    assert "To: approver@example.com" in celery_worker.log()
    late = api(
        client, "post", f"/api/tasks/{task.pk}/decide", people["approver"], {"decision": "approved"}
    )
    assert late.status_code == 409


def test_a_review_is_approved_by_all_changed_by_one_or_rejected_by_one(
    client: Client, people: dict[str, dict[str, str]], celery_worker: RunningProcess
) -> None:
    publish(client, people["designer"], REVIEW, demo_graph(REVIEW).graph)
    runs = {
        outcome: start(
            client,
            people["operator"],
            REVIEW,
            {
                "title": f"Handbook {outcome}",
                "url": f"https://docs.example/{outcome}",
                "author_email": "author@example.com",
            },
        )
        for outcome in ("approved", "changes", "rejected")
    }
    tasks = {outcome: open_task(run, "review") for outcome, run in runs.items()}
    assert tasks["approved"].required_approvals == 2
    for outcome, task in tasks.items():
        decide(client, people["designer"], task, "approved", "looks good")
        task.refresh_from_db()
        assert task.status == "open"  # the reviewers decide in parallel: one is not enough
        decide(client, people["approver"], task, outcome, f"{outcome}: see page 3")

    approved = wait_for_status(runs["approved"], "completed")
    assert approved.output == {"outcome": "approved", "published": "https://docs.example/approved"}
    assert Event.objects.get(type="Document.published").payload["title"] == "Handbook approved"

    changes = wait_for_status(runs["changes"], "completed")
    assert changes.output == {
        "outcome": "changes",
        "comments": ["looks good", "changes: see page 3"],
    }
    assert "Subject: Changes requested: Handbook changes" in celery_worker.log()

    rejected = wait_for_status(runs["rejected"], "completed")
    assert rejected.output["outcome"] == "rejected"
    assert Event.objects.filter(type="Document.published").count() == 1


def test_a_review_reminds_the_reviewers_then_times_out(
    client: Client, people: dict[str, dict[str, str]], celery_worker: RunningProcess
) -> None:
    slug = f"{REVIEW}-quick"
    publish(
        client, people["designer"], slug, quick(REVIEW, review={"reminder": "1s", "timeout": "2s"})
    )
    run = start(
        client,
        people["operator"],
        slug,
        {"title": "Slow doc", "url": "https://docs.example/slow", "author_email": "a@example.com"},
    )
    task = open_task(run, "review")
    decide(client, people["designer"], task, "approved")
    reminded = HumanTask.objects.filter(pk=task.pk, reminded_at__isnull=False, status="open")
    deadline = time.monotonic() + 10
    while not reminded.exists():
        assert time.monotonic() < deadline, "no reminder while the review was open"
        time.sleep(0.05)
    run = wait_for_status(run, "completed")
    assert run.output == {"outcome": "timeout", "reason": "not every reviewer answered in time"}
    task.refresh_from_db()
    assert task.status == "timed_out"
    assert "Subject: Reminder: Review: Slow doc" in celery_worker.log()
    names = [step.name for step in run.steps.order_by("seq")]
    assert names.index("review:remind") < names.index("review:expire")
