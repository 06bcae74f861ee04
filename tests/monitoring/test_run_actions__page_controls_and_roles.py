"""The run page's actions: each shown only to the roles that may use it, each refusing bad
input by naming the field and changing nothing, each doing what the API does."""

import json

import pytest

from engine.models import Event, HumanTask, Run, TaskDecision
from engine.runtime.runs import start_run
from tests.engine.runtime.test_engine__runs_through_real_workers import wait_for_status
from tests.monitoring.test_run_page__shows_journal_and_controls import logged_in

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("side_effects_table", "celery_worker", "timer_loop"),
]


def test_a_viewer_sees_no_control_and_is_refused_at_the_door(make_user) -> None:
    run = wait_for_status(start_run("test-wait", {"order_id": 5}), "waiting")
    viewer = logged_in(make_user, "vera", "viewers")
    page = viewer.get(f"/runs/{run.pk}/").content.decode()
    for control in ("Pause", "Send event", "Re-run", "Cancel run"):
        assert control not in page
    before = Run.objects.count()
    for action, body in [
        ("pause", {}),
        ("rerun", {"input": "{}"}),
        ("fork", {"from_seq": "0"}),
        ("events", {"type": "Approval.decided", "data": "{}"}),
    ]:
        assert viewer.post(f"/runs/{run.pk}/{action}", body).status_code == 403, action
    run.refresh_from_db()
    assert run.status == "waiting"
    assert Run.objects.count() == before
    assert not Event.objects.exists()


def test_an_operator_sends_the_event_the_run_waits_for(make_user) -> None:
    run = wait_for_status(start_run("test-wait", {"order_id": 6}), "waiting")
    operator = logged_in(make_user, "olga", "operators")
    page = operator.get(f"/runs/{run.pk}/").content.decode()
    assert "Send the event it waits for" in page
    assert '<option value="Approval.decided"' in page
    assert "Pause" in page

    bad = operator.post(f"/runs/{run.pk}/events", {"type": "Approval.decided", "data": "{oops"})
    assert bad.status_code == 422
    assert "<strong>data</strong>: not valid JSON" in bad.content.decode()
    other = operator.post(f"/runs/{run.pk}/events", {"type": "Other.thing", "data": "{}"})
    assert other.status_code == 422
    assert "<strong>type</strong>: the run waits for Approval.decided" in other.content.decode()
    assert not Event.objects.exists()

    data = json.dumps({"order_id": 6, "approved": True})
    sent = operator.post(f"/runs/{run.pk}/events", {"type": "Approval.decided", "data": data})
    assert sent.status_code == 303
    [event] = Event.objects.all()
    assert event.source == "run page (olga)"
    assert wait_for_status(run, "completed").output["approved"] is True


def test_pause_and_resume_from_the_page(make_user) -> None:
    run = wait_for_status(start_run("test-wait", {"order_id": 7}), "waiting")
    operator = logged_in(make_user, "olga", "operators")
    assert operator.post(f"/runs/{run.pk}/pause").status_code == 303
    run.refresh_from_db()
    assert run.status == "paused"
    page = operator.get(f"/runs/{run.pk}/").content.decode()
    assert f'action="/runs/{run.pk}/resume"' in page
    assert f'action="/runs/{run.pk}/pause"' not in page
    assert operator.post(f"/runs/{run.pk}/resume").status_code == 303
    run.refresh_from_db()
    assert run.status in ("pending", "running", "waiting")


def test_fork_and_rerun_from_the_page_link_both_runs(make_user) -> None:
    original = wait_for_status(
        start_run("test-forkable", {"order": "A", "card": "declined"}), "failed"
    )
    operator = logged_in(make_user, "olga", "operators")
    page = operator.get(f"/runs/{original.pk}/").content.decode()
    assert "Fork from a step" in page and "Re-run with edited input" in page
    assert '<option value="1" selected>1 · charge_card (failed)</option>' in page

    before = Run.objects.count()
    missing = operator.post(
        f"/runs/{original.pk}/fork", {"from_seq": "1", "input": '{"order": "A"}'}
    )
    assert missing.status_code == 422
    assert "<strong>input</strong>: &#x27;card&#x27; is a required property" in (
        missing.content.decode()
    )
    assert "{&quot;order&quot;: &quot;A&quot;}" in missing.content.decode()  # kept as typed
    wrong = operator.post(f"/runs/{original.pk}/rerun", {"input": '{"order": 1, "card": "v"}'})
    assert wrong.status_code == 422 and "<strong>input.order</strong>" in wrong.content.decode()
    assert Run.objects.count() == before

    forked = operator.post(
        f"/runs/{original.pk}/fork",
        {"from_seq": "1", "input": json.dumps({"order": "B", "card": "visa"})},
    )
    assert forked.status_code == 303
    fork = Run.objects.get(forked_from=original)
    assert forked["Location"] == f"/runs/{fork.pk}/"
    assert wait_for_status(fork, "completed").output == ["prepared A", "charged visa"]
    assert fork.created_by.username == "olga"
    fork_page = operator.get(f"/runs/{fork.pk}/").content.decode()
    assert f'Fork from step 1 of <a href="/runs/{original.pk}/">run #{original.pk}</a>' in fork_page
    original_page = operator.get(f"/runs/{original.pk}/").content.decode()
    assert f'<a href="/runs/{fork.pk}/">#{fork.pk}</a>' in original_page


def test_an_assignee_decides_the_runs_task_from_the_page(make_user) -> None:
    anna = logged_in(make_user, "anna", "approvers")
    run = wait_for_status(start_run("ask-quickly", {"who": ["anna"], "seconds": 600}), "waiting")
    task = HumanTask.objects.get(run=run)
    stranger = logged_in(make_user, "sam", "approvers")
    assert "Your decision" not in stranger.get(f"/runs/{run.pk}/").content.decode()
    refused = stranger.post(
        f"/runs/{run.pk}/tasks/{task.pk}/decide", {"decision": "approved"}, follow=True
    )
    assert "Nothing decided" in refused.content.decode()
    assert not TaskDecision.objects.exists()

    page = anna.get(f"/runs/{run.pk}/").content.decode()
    assert "Your decision: Quick question" in page
    other_run = start_run("test-sequence", {"steps": 1})
    assert (
        anna.post(
            f"/runs/{other_run.pk}/tasks/{task.pk}/decide", {"decision": "approved"}
        ).status_code
        == 404
    )
    decided = anna.post(
        f"/runs/{run.pk}/tasks/{task.pk}/decide", {"decision": "approved", "comment": "fine"}
    )
    assert decided.status_code == 303
    [decision] = TaskDecision.objects.all()
    assert (decision.user.username, decision.decision, decision.comment) == (
        "anna",
        "approved",
        "fine",
    )
    assert wait_for_status(run, "completed").output == {"outcome": "approved", "by": ["anna"]}
