"""A run waiting on a person moves only on the task's own settled state: a forged decision
event is refused and the run waits on; code workflows ask with approval() and are decided
through the task API; reminders and escalation are durable; a decision and a timeout that
race agree in the task and the run."""

import contextlib
import threading
import time
from typing import Any

import pytest
from django.db import connection, transaction
from django.test import Client

from engine.human import TaskError, decide_task, settle_task_wait
from engine.models import Event, HumanTask, Run, StepRecord, TaskStatus
from engine.runtime.runs import start_run
from tests.designer.test_graph_api__draft_publish_run import APPROVAL, api, bearer
from tests.engine.graph.test_node_library__every_type_and_handle import publish, start
from tests.engine.runtime.test_engine__runs_through_real_workers import wait_for_status
from tests.processes import RunningProcess, wait_until

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("celery_worker", "timer_loop"),
]


def open_task_of(run: Run, timeout: float = 20) -> HumanTask:
    wait_until(lambda: HumanTask.objects.filter(run=run).exists(), timeout, "the task")
    return HumanTask.objects.filter(run=run).order_by("pk").last()  # type: ignore[return-value]


def test_a_forged_decision_event_is_refused_and_the_run_waits_on(
    client: Client, make_user: Any
) -> None:
    operator = bearer(make_user, "otto", "designers", "operators")
    manny = bearer(make_user, "manny", "approvers")
    publish(client, operator, "forged-expense", APPROVAL)
    run = wait_for_status(start(client, operator, "forged-expense", {"amount": 5000}), "waiting")
    task = open_task_of(run)

    forged = api(
        client,
        "post",
        "/api/events",
        operator,
        {
            "type": "Task.decided",
            "id": f"task-{task.pk}-decided",
            "payload": {"task": task.pk, "run": run.pk, "outcome": "approved", "decisions": []},
        },
    )
    assert forged.status_code == 422, forged.json()
    assert "Task.decided" in forged.json()["detail"]
    assert not Event.objects.filter(type="Task.decided").exists()
    time.sleep(0.5)  # time enough for a worker to act, were anything to wake it
    assert Run.objects.get(pk=run.pk).status == "waiting"

    # The real approver's decision is the one that counts.
    decided = api(client, "post", f"/api/tasks/{task.pk}/decide", manny, {"decision": "rejected"})
    assert decided.status_code == 200, decided.json()
    run = wait_for_status(run, "completed")
    assert run.output == {"approved": False}
    task.refresh_from_db()
    assert task.status == TaskStatus.REJECTED


def test_the_python_expense_demo_is_decided_through_the_task_api(
    client: Client, make_user: Any
) -> None:
    manager = bearer(make_user, "mona", "approvers")
    vp = bearer(make_user, "vic", "approvers")
    expense = {"id": "e-9", "amount": 1800, "employee": "eve", "manager": "mona", "vp": "vic"}
    run = wait_for_status(start_run("expense-approval", expense), "waiting")

    first = open_task_of(run)
    assert first.data["amount"] == 1800 and first.assignees.get().username == "mona"
    refused = api(client, "post", f"/api/tasks/{first.pk}/decide", vp, {"decision": "approved"})
    assert refused.status_code == 403  # the VP cannot decide the manager's stage
    ok = api(client, "post", f"/api/tasks/{first.pk}/decide", manager, {"decision": "approved"})
    assert ok.status_code == 200, ok.json()

    wait_until(lambda: HumanTask.objects.filter(run=run).count() == 2, 20, "the VP's task")
    second = open_task_of(run)
    assert second.assignees.get().username == "vic"
    ok = api(client, "post", f"/api/tasks/{second.pk}/decide", vp, {"decision": "approved"})
    assert ok.status_code == 200, ok.json()
    run = wait_for_status(run, "completed")
    assert run.output == {"status": "approved", "approvals": ["mona", "vic"]}


def test_a_timeout_that_came_first_wins_and_a_late_decision_is_refused(
    client: Client, make_user: Any
) -> None:
    manny = bearer(make_user, "manny", "approvers")
    run = wait_for_status(start_run("ask-quickly", {"who": ["manny"], "seconds": 1}), "completed")
    assert run.output == {"outcome": "timeout", "by": []}
    task = HumanTask.objects.get(run=run)
    assert task.status == TaskStatus.TIMED_OUT
    late = api(client, "post", f"/api/tasks/{task.pk}/decide", manny, {"decision": "approved"})
    assert late.status_code == 409
    task.refresh_from_db()
    assert task.status == TaskStatus.TIMED_OUT and not task.decisions.exists()


def test_a_decision_that_came_first_wins_over_the_timeout(client: Client, make_user: Any) -> None:
    manny = bearer(make_user, "manny", "approvers")
    run = wait_for_status(start_run("ask-quickly", {"who": ["manny"], "seconds": 3}), "waiting")
    task = open_task_of(run)
    decided = api(client, "post", f"/api/tasks/{task.pk}/decide", manny, {"decision": "approved"})
    assert decided.status_code == 200
    run = wait_for_status(run, "completed")
    assert run.output == {"outcome": "approved", "by": ["manny"]}
    time.sleep(3.2)  # past the old deadline: nothing changes
    task.refresh_from_db()
    assert task.status == TaskStatus.APPROVED
    assert Run.objects.get(pk=run.pk).output == {"outcome": "approved", "by": ["manny"]}


def test_a_decision_racing_the_deadline_agrees_with_the_run_either_way(make_user: Any) -> None:
    """The wait's deadline and a decision, in two threads at the same moment, twenty times:
    each time the task and the run's wait end the same way."""
    manny = make_user("manny", "approvers")
    run = wait_for_status(start_run("ask-quickly", {"who": ["manny"], "seconds": 600}), "waiting")
    template = StepRecord.objects.get(run=run, kind="task")
    outcomes = set()
    for round_number in range(20):
        task = HumanTask.objects.create(
            run=run,
            step_name=f"race-{round_number}",
            kind="approval",
            title="race",
            created_at=template.started_at,
        )
        task.assignees.set([manny])
        record = StepRecord.objects.create(
            run=run,
            seq=1000 + round_number,
            kind="task",
            name=f"race-{round_number}",
            status="waiting",
            started_at=template.started_at,
            wake_at=template.started_at,  # already due
            detail={"task": task.pk, "closes": True},
        )
        start_line = threading.Barrier(2)
        threads = [
            threading.Thread(target=_deadline, args=(start_line, run.pk, task.pk, record.pk)),
            threading.Thread(target=_decision, args=(start_line, task.pk, manny)),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
        task.refresh_from_db()
        record.refresh_from_db()
        if task.status == TaskStatus.APPROVED:
            assert record.status == "completed" and record.output["outcome"] == "approved"
        else:
            assert task.status == TaskStatus.TIMED_OUT and not task.decisions.exists()
            assert record.status == "failed" and record.output["outcome"] == "timeout"
        outcomes.add(task.status)
    print(f"outcomes seen: {sorted(outcomes)}")


def _deadline(start_line: threading.Barrier, run_id: int, task_id: int, record_id: int) -> None:
    """What DjangoBackend.expire_task does at a due deadline, in its lock order."""
    start_line.wait()
    with transaction.atomic():
        Run.objects.select_for_update().get(pk=run_id)
        locked = HumanTask.objects.select_for_update().get(pk=task_id)
        due = StepRecord.objects.select_for_update().get(pk=record_id)
        settle_task_wait(due, locked)
        due.save()
    connection.close()


def _decision(start_line: threading.Barrier, task_id: int, user: Any) -> None:
    start_line.wait()
    with contextlib.suppress(TaskError):  # too late: the deadline closed the task
        decide_task(task_id, user, "approved")
    connection.close()


def test_a_late_task_is_reminded_then_escalated_and_the_new_assignee_decides(
    client: Client, make_user: Any, celery_worker: RunningProcess
) -> None:
    make_user("slow", "approvers", email="slow@example.com")
    boss = bearer(make_user, "boss", "approvers")
    run = wait_for_status(
        start_run("ask-then-escalate", {"who": ["slow"], "seconds": 2, "then": ["boss"]}),
        "waiting",
    )
    task = open_task_of(run)
    assert api(client, "get", "/api/tasks", boss).json() == []  # not boss's task yet

    wait_until(
        lambda: HumanTask.objects.filter(pk=task.pk, escalated_at__isnull=False).exists(),
        20,
        "the escalation",
    )
    task.refresh_from_db()
    assert task.reminded_at is not None and task.reminded_at < task.escalated_at
    assert "Subject: Reminder: Needs an answer" in celery_worker.log()
    assert "To: slow@example.com" in celery_worker.log()
    assert sorted(task.assignees.values_list("username", flat=True)) == ["boss", "slow"]
    assert [item["id"] for item in api(client, "get", "/api/tasks", boss).json()] == [task.pk]

    decided = api(client, "post", f"/api/tasks/{task.pk}/decide", boss, {"decision": "approved"})
    assert decided.status_code == 200, decided.json()
    run = wait_for_status(run, "completed")
    assert run.output == {"outcome": "approved", "by": ["boss"]}
    steps = run.steps.filter(kind="step").order_by("seq", "branch", "attempt")
    assert [name for (name,) in steps.values_list("name")] == [
        "answer",
        "answer:remind",
        "answer:escalate",
    ]
