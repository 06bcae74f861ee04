"""An approval inside a state: the state's entry opens the task, the instance waits in that
state (answering other events), and the decision taken in the inbox comes back as the
instance's `task.approved` / `task.rejected` event. Nobody can post that event instead;
leaving the state withdraws the task; a failed entry leaves no task behind."""

from typing import Any

import pytest

from accounts.models import ApiToken
from engine.machines.publishing import MachineRefused, publish_machine
from engine.machines.validate import definition_problems
from engine.models import HumanTask, MachineEvent, MachineInstance, TaskStatus
from tests.engine.machines.helpers import wait_applied

APPROVAL = {
    "type": "human.approval",
    "config": {
        "title": "Expense {{ context.amount }} for {{ instance.key }}",
        "assignees": {"users": ["maria"]},
    },
}


def expense(entry: list[Any] | None = None) -> dict[str, Any]:
    return {
        "initial": "draft",
        "context": {"amount": 0},
        "states": [
            {"id": "draft"},
            {"id": "submitted", "entry": entry if entry is not None else [APPROVAL]},
            {"id": "paid", "final": True},
            {"id": "rejected", "final": True},
            {"id": "withdrawn", "final": True},
        ],
        "transitions": [
            {"id": "submit", "source": "draft", "event": "submit", "target": "submitted"},
            {"id": "ok", "source": "submitted", "event": "task.approved", "target": "paid"},
            {"id": "no", "source": "submitted", "event": "task.rejected", "target": "rejected"},
            {"id": "pull", "source": "submitted", "event": "withdraw", "target": "withdrawn"},
        ],
    }


def problems_of(document: dict[str, Any]) -> list[tuple[str | None, str, str]]:
    return [(p.node, p.field, p.message) for p in definition_problems(document)]


@pytest.mark.django_db
def test_where_a_task_may_be_and_what_must_answer_it() -> None:
    assert problems_of(expense()) == []
    in_exit = expense()
    in_exit["states"][1]["exit"] = [APPROVAL]
    assert any(
        (node, field) == ("submitted", "exit[0].type") and "only be a state's entry" in message
        for node, field, message in problems_of(in_exit)
    )
    clocked = expense([{**APPROVAL, "config": {**APPROVAL["config"], "timeout": "2d"}}])
    assert ("submitted", "entry[0].config.timeout") in [(n, f) for n, f, _ in problems_of(clocked)]
    unanswered = expense()
    unanswered["transitions"] = [t for t in unanswered["transitions"] if t["id"] == "submit"]
    unanswered["transitions"].append(
        {"id": "pull", "source": "submitted", "event": "withdraw", "target": "withdrawn"}
    )
    found = problems_of(unanswered)
    assert any(n == "submitted" and "task.approved or task.rejected" in m for n, _, m in found)
    stray = expense()
    stray["transitions"].append(
        {"id": "early", "source": "draft", "event": "task.approved", "target": "paid"}
    )
    assert ("early", "event") in [(n, f) for n, f, _ in problems_of(stray)]
    wrong = expense()
    wrong["transitions"][1]["event"] = "task.changes"  # an approval never asks for changes
    assert ("ok", "event") in [(n, f) for n, f, _ in problems_of(wrong)]
    listening = {
        **expense(),
        "listen": [{"type": "Expense.ok", "event": "task.approved", "key": "id"}],
    }
    assert ("listen[0].event") in [f for _, f, _ in problems_of(listening)]
    with pytest.raises(MachineRefused):
        publish_machine("expense", "Expense", in_exit)


@pytest.fixture
def people(make_user: Any) -> dict[str, Any]:
    return {"olga": make_user("olga", "operators"), "maria": make_user("maria", "viewers")}


def caller(client: Any, user: Any) -> Any:
    _, raw = ApiToken.issue(user, "ci")
    headers = {"Authorization": f"Bearer {raw}"}

    def call(method: str, path: str, body: Any = None) -> Any:
        return getattr(client, method)(
            path, body or {}, content_type="application/json", headers=headers
        )

    return call


def start(olga: Any, key: str) -> tuple[int, HumanTask]:
    created = olga(
        "post", "/api/machines/expense/instances", {"key": key, "context": {"amount": 120}}
    )
    assert created.status_code == 201, created.content
    instance = created.json()["id"]
    wait_applied(instance)
    assert olga("post", f"/api/instances/{instance}/events", {"event": "submit"}).status_code == 202
    wait_applied(instance, 2)
    return instance, HumanTask.objects.get(machine_instance_id=instance)


def on_a_worker(test: Any) -> Any:
    """An integration test on the real worker, with committed transactions."""
    for mark in (
        pytest.mark.integration,
        pytest.mark.django_db(transaction=True),
        pytest.mark.usefixtures("celery_worker"),
    ):
        test = mark(test)
    return test


@pytest.fixture
def callers(client: Any, people: dict[str, Any]) -> tuple[Any, Any]:
    """Olga (operator) and Maria (the approver), calling the API; the machine published."""
    publish_machine("expense", "Expense", expense())
    return caller(client, people["olga"]), caller(client, people["maria"])


@on_a_worker
def test_the_inbox_decision_moves_the_instance_and_nobody_can_post_it(
    client: Any, people: dict[str, Any], callers: tuple[Any, Any]
) -> None:
    olga, maria = callers
    instance, task = start(olga, "exp-1")
    assert (task.status, task.machine_state, task.title) == (
        "open",
        "submitted",
        "Expense 120 for exp-1",
    )

    detail = olga("get", f"/api/instances/{instance}").json()
    assert detail["state"] == "submitted"
    assert detail["tasks"] == [
        {"id": task.pk, "kind": "approval", "title": task.title, "state": "submitted"}
    ]
    approved = next(e for e in detail["allowed_events"] if e["event"] == "task.approved")
    assert not approved["allowed"] and f"task #{task.pk}" in approved["reason"]

    # An operator cannot approve by posting the decision's event.
    forged = olga("post", f"/api/instances/{instance}/events", {"event": "task.approved"})
    assert forged.status_code == 422 and forged.json()["field"] == "event"
    # Whoever moved the instance into the state may not approve it either (four-eyes).
    assert olga("post", f"/api/tasks/{task.pk}/decide", {"decision": "approved"}).status_code == 403
    assert MachineInstance.objects.get(pk=instance).state == "submitted"

    # People see where the task comes from: the inbox and the cockpit link each other.
    client.force_login(people["maria"])
    cockpit = f"/machines/expense/instances/{instance}/"
    assert f'href="{cockpit}"' in client.get("/inbox/").content.decode()
    page = client.get(cockpit).content.decode()
    assert 'data-testid="open-task"' in page and f'href="/inbox/{task.pk}/"' in page
    assert 'data-testid="task-instance"' in client.get(f"/inbox/{task.pk}/").content.decode()

    decided = maria(
        "post", f"/api/tasks/{task.pk}/decide", {"decision": "approved", "comment": "ok"}
    )
    assert decided.status_code == 200, decided.content
    wait_applied(instance, 3)
    assert MachineInstance.objects.get(pk=instance).state == "paid"
    event = MachineEvent.objects.get(instance_id=instance, name="task.approved")
    assert (event.status, event.source, event.actor_id) == ("applied", "task", people["maria"].pk)
    assert event.data["task"] == task.pk and event.data["decisions"][0]["comment"] == "ok"
    assert MachineEvent.objects.filter(instance_id=instance).count() == 3


@on_a_worker
def test_leaving_the_state_withdraws_the_task_and_a_failed_entry_leaves_none(
    callers: tuple[Any, Any],
) -> None:
    olga, maria = callers
    instance, task = start(olga, "exp-2")
    assert (
        olga("post", f"/api/instances/{instance}/events", {"event": "withdraw"}).status_code == 202
    )
    wait_applied(instance, 3)
    assert MachineInstance.objects.get(pk=instance).state == "withdrawn"
    task.refresh_from_db()
    assert task.status == TaskStatus.WITHDRAWN
    late = maria("post", f"/api/tasks/{task.pk}/decide", {"decision": "approved"})
    assert late.status_code == 409
    assert not MachineEvent.objects.filter(instance_id=instance, name__startswith="task.").exists()

    # The approval opens, then the next entry action fails: the instance stays in draft and
    # the task that attempt opened is withdrawn with it.
    failing = [APPROVAL, {"type": "action.python", "config": {"action": "test.machine-refuse"}}]
    publish_machine("expense", "Expense", expense(failing), note="fails on entry")
    created = olga("post", "/api/machines/expense/instances", {"key": "exp-3", "context": {}})
    second = created.json()["id"]
    wait_applied(second)
    olga("post", f"/api/instances/{second}/events", {"event": "submit"})
    wait_applied(second, 2)
    assert MachineInstance.objects.get(pk=second).state == "draft"
    assert MachineEvent.objects.get(instance_id=second, name="submit").status == "failed"
    assert list(
        HumanTask.objects.filter(machine_instance_id=second).values_list("status", flat=True)
    ) == [TaskStatus.WITHDRAWN]
