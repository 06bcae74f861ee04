"""Run actions through the JSON API on a real worker: pause and resume, re-run with edited
input (pinned to the version), fork from a step (the journal before it reused, a receiver
counting the calls), log lines kept once per step across replays, and every refusal."""

import time
from typing import Any

import pytest
from django.test import Client

from engine.core.logs import MAX_LINES
from engine.inbound.events import deliver_event
from engine.models import HumanTask, Run, StepRecord
from engine.runtime.step_logs import step_logs
from tests.designer.test_graph_api__draft_publish_run import api, bearer
from tests.engine.graph.graphs import graph
from tests.engine.graph.local_server import LocalServer, Reply
from tests.engine.graph.test_node_library__every_type_and_handle import publish, start
from tests.engine.runtime.test_engine__runs_through_real_workers import effects, wait_for_status
from tests.processes import wait_until

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("side_effects_table", "celery_worker", "timer_loop"),
]


@pytest.fixture
def operator(make_user: Any) -> dict[str, str]:
    return bearer(make_user, "olga", "designers", "operators")


@pytest.fixture
def viewer(make_user: Any) -> dict[str, str]:
    return bearer(make_user, "vera", "viewers")


def completed_steps(run: Run) -> int:
    return StepRecord.objects.filter(run=run, kind="step", status="completed").count()


def test_pause_stops_before_the_next_step_and_resume_finishes_it(
    client: Client, operator: dict[str, str]
) -> None:
    run = start(client, operator, "test-slow", {"steps": 4, "pause": 0.4})
    wait_until(lambda: completed_steps(run) >= 1, 10, "the first step")

    paused = api(client, "post", f"/api/runs/{run.pk}/pause", operator, {})
    assert paused.status_code == 200, paused.json()
    assert paused.json()["status"] == "paused"
    at_pause = completed_steps(run)
    time.sleep(1.5)  # the step running when paused finishes; no next one starts
    held = completed_steps(run)
    assert held <= at_pause + 1
    assert held < 4
    run.refresh_from_db()
    assert run.status == "paused"
    assert not run.lease_owner

    again = api(client, "post", f"/api/runs/{run.pk}/pause", operator, {})
    assert again.status_code == 409
    assert "cannot be paused" in again.json()["detail"]

    resumed = api(client, "post", f"/api/runs/{run.pk}/resume", operator, {})
    assert resumed.status_code == 200, resumed.json()
    assert wait_for_status(run, "completed").output == [0, 1, 2, 3]
    assert sorted(effects(str(run.pk)).values()) == [1, 1, 1, 1]  # each step ran once
    not_paused = api(client, "post", f"/api/runs/{run.pk}/resume", operator, {})
    assert not_paused.status_code == 409


def test_a_viewer_may_not_pause_resume_rerun_or_fork(
    client: Client, operator: dict[str, str], viewer: dict[str, str]
) -> None:
    run = wait_for_status(
        start(client, operator, "test-forkable", {"order": "A", "card": "declined"}), "failed"
    )
    runs_before = Run.objects.count()
    for action, body in [
        ("pause", {}),
        ("resume", {}),
        ("rerun", {"input": {"order": "A", "card": "visa"}}),
        ("fork", {"from_seq": 1}),
    ]:
        refused = api(client, "post", f"/api/runs/{run.pk}/{action}", viewer, body)
        assert refused.status_code == 403, action
    assert Run.objects.count() == runs_before
    run.refresh_from_db()
    assert run.status == "failed"


def test_rerun_checks_its_input_and_pins_the_version(
    client: Client, operator: dict[str, str]
) -> None:
    first = graph(
        [("start", "trigger.manual"), ("end", "flow.end", {"output": {"v": 1}})],
        ["start>end"],
    )
    publish(client, operator, "test-rerun-pin", first)
    run = wait_for_status(start(client, operator, "test-rerun-pin", {"n": 1}), "completed")
    assert run.output == {"v": 1}
    draft = api(client, "get", "/api/workflows/test-rerun-pin/draft", operator).json()
    second = graph(
        [("start", "trigger.manual"), ("end", "flow.end", {"output": {"v": 2}})],
        ["start>end"],
    )
    saved = api(
        client,
        "put",
        "/api/workflows/test-rerun-pin/draft",
        operator,
        {"graph": second, "revision": draft["revision"]},
    )
    assert saved.status_code == 200, saved.json()
    assert api(client, "post", "/api/workflows/test-rerun-pin/publish", operator, {}).status_code
    newer = wait_for_status(start(client, operator, "test-rerun-pin", {}), "completed")
    assert newer.version != run.version and newer.output == {"v": 2}

    again = api(client, "post", f"/api/runs/{run.pk}/rerun", operator, {"input": {"n": 2}})
    assert again.status_code == 201, again.json()
    body = again.json()
    assert (body["version"], body["forked_from_id"], body["forked_at_seq"]) == (
        run.version,
        run.pk,
        None,
    )
    rerun = wait_for_status(Run.objects.get(pk=body["id"]), "completed")
    assert rerun.output == {"v": 1}  # the pinned version's graph, not the newest
    assert rerun.input == {"n": 2}


def test_rerun_refuses_bad_bodies_naming_the_field_and_creates_nothing(
    client: Client, operator: dict[str, str]
) -> None:
    run = wait_for_status(
        start(client, operator, "test-forkable", {"order": "A", "card": "declined"}), "failed"
    )
    before = Run.objects.count()
    wrong_type = api(
        client, "post", f"/api/runs/{run.pk}/rerun", operator, {"input": {"order": 5, "card": "x"}}
    )
    assert wrong_type.status_code == 422
    assert wrong_type.json()["field"] == "input.order"
    missing = api(client, "post", f"/api/runs/{run.pk}/rerun", operator, {})
    assert (missing.status_code, missing.json()["field"]) == (422, "input")
    not_json = client.post(
        f"/api/runs/{run.pk}/rerun", "input=1", content_type="text/plain", headers=operator
    )
    assert (not_json.status_code, not_json.json()["field"]) == (422, "body")
    unknown = api(client, "post", "/api/runs/999999/rerun", operator, {"input": {}})
    assert (unknown.status_code, unknown.json()["field"]) == (404, "run_id")
    assert Run.objects.count() == before


def test_fork_reuses_the_journal_before_the_step_and_runs_from_it(
    client: Client, operator: dict[str, str]
) -> None:
    original = wait_for_status(
        start(client, operator, "test-forkable", {"order": "A-1", "card": "declined"}), "failed"
    )
    assert original.stopped_at == 1
    forked = api(
        client,
        "post",
        f"/api/runs/{original.pk}/fork",
        operator,
        {"from_seq": 1, "input": {"order": "B-2", "card": "visa"}},
    )
    assert forked.status_code == 201, forked.json()
    fork = wait_for_status(Run.objects.get(pk=forked.json()["id"]), "completed")
    # Position 0 kept its recorded output; the edited input reached the step forked from.
    assert fork.output == ["prepared A-1", "charged visa"]
    assert (fork.forked_from_id, fork.forked_at_seq, fork.version) == (
        original.pk,
        1,
        original.version,
    )
    assert sorted(effects(str(fork.pk)).items()) == [(f"stepwise:{fork.pk}:1:charge_card", 1)]
    assert sorted(effects(str(original.pk)).values()) == [1, 1]  # the original's, untouched
    detail = api(client, "get", f"/api/runs/{fork.pk}", operator).json()
    assert detail["forked_from_id"] == original.pk
    assert [(s["seq"], s["name"], s["status"]) for s in detail["steps"]] == [
        (0, "prepare", "completed"),
        (1, "charge_card", "completed"),
    ]


def test_fork_refusals_name_the_field_and_create_nothing(
    client: Client, operator: dict[str, str]
) -> None:
    failed = wait_for_status(
        start(client, operator, "test-forkable", {"order": "A", "card": "declined"}), "failed"
    )
    waiting = wait_for_status(start(client, operator, "test-wait", {"order_id": 77}), "waiting")
    before = Run.objects.count()
    cases: list[tuple[int, dict[str, Any], int, str]] = [
        (waiting.pk, {"from_seq": 0}, 409, "run_id"),  # still active
        (failed.pk, {"from_seq": 2}, 409, "from_seq"),  # no such position
        (failed.pk, {"from_seq": 1, "branch": 2}, 422, "branch"),  # inside a parallel group
        (failed.pk, {"from_seq": "one"}, 422, "from_seq"),
        (failed.pk, {"from_seq": -1}, 422, "from_seq"),
        (failed.pk, {}, 422, "from_seq"),
        (failed.pk, {"from_seq": 1, "input": {"order": "A"}}, 422, "input"),
    ]
    for run_id, body, status, field in cases:
        refused = api(client, "post", f"/api/runs/{run_id}/fork", operator, body)
        assert (refused.status_code, refused.json()["field"]) == (status, field), body
        assert refused.json()["detail"].startswith(f"{field}"), body
    assert Run.objects.count() == before


def test_a_forked_http_step_calls_again_with_a_key_of_its_own(
    client: Client, operator: dict[str, str], worker_server: LocalServer
) -> None:
    worker_server.route("POST", "/fork-before", Reply(200, {"ok": 1}))
    worker_server.route("POST", "/fork-declined", Reply(402, {"error": "declined"}))
    worker_server.route("POST", "/fork-paid", Reply(200, {"paid": True}))
    once = {"retry": {"max_attempts": 1}, "timeout": 5}
    document = graph(
        [
            ("start", "trigger.manual"),
            ("before", "action.http", {"method": "POST", "url": "{{ input.before }}", **once}),
            ("note", "action.log", {"message": "paying at {{ input.pay }}"}),
            ("charge", "action.http", {"method": "POST", "url": "{{ input.pay }}", **once}),
            ("end", "flow.end", {"output": {"paid": "{{ nodes.charge.output.body.paid }}"}}),
        ],
        ["start>before", "before>note", "note>charge", "charge>end"],
    )
    publish(client, operator, "test-fork-http", document)
    declined = {
        "before": worker_server.url("/fork-before"),
        "pay": worker_server.url("/fork-declined"),
    }
    original = wait_for_status(start(client, operator, "test-fork-http", declined), "failed")
    charge = original.steps.get(name="charge", superseded=False)
    note = original.steps.get(name="note")
    assert note.logs[0]["message"] == f"paying at {declined['pay']}"

    paid = {**declined, "pay": worker_server.url("/fork-paid")}
    forked = api(
        client,
        "post",
        f"/api/runs/{original.pk}/fork",
        operator,
        {"from_seq": charge.seq, "input": paid},
    )
    assert forked.status_code == 201, forked.json()
    fork = wait_for_status(Run.objects.get(pk=forked.json()["id"]), "completed")

    assert len(worker_server.requests_to("/fork-before")) == 1  # not called again
    [refused_call] = worker_server.requests_to("/fork-declined")
    [paid_call] = worker_server.requests_to("/fork-paid")
    original_key = refused_call.headers["idempotency-key"]
    fork_key = paid_call.headers["idempotency-key"]
    assert original_key == f"stepwise:{original.pk}:{charge.seq}:charge"
    assert fork_key == f"stepwise:{fork.pk}:{charge.seq}:charge"
    # The copied log node keeps the line it wrote then, about the card that was declined.
    assert fork.steps.get(name="note").logs == note.logs


def test_log_lines_are_kept_once_per_step_across_replays(
    client: Client, operator: dict[str, str], viewer: dict[str, str]
) -> None:
    run = wait_for_status(
        start(client, operator, "test-logged", {"amount": 7, "ref": "r1"}), "waiting"
    )
    deliver_event("Logged.go", {"ref": "r1"}, event_id="logged-r1")
    wait_for_status(run, "completed")

    detail = api(client, "get", f"/api/runs/{run.pk}", viewer).json()
    lines = [(line["level"], line["message"]) for step in detail["steps"] for line in step["logs"]]
    assert lines == [
        ("debug", "starting with 7"),
        ("info", "charging 7"),
        ("info", "resumed after the event"),
    ]
    charge = next(step for step in detail["steps"] if step["name"] == "charge_logged")
    [attempt] = step_logs(run.pk, charge["seq"])
    assert [line["message"] for line in attempt.lines] == ["charging 7"]


def test_a_step_keeps_a_bounded_number_of_lines(client: Client, operator: dict[str, str]) -> None:
    run = wait_for_status(start(client, operator, "test-noisy", {"lines": 300}), "completed")
    [record] = run.steps.all()
    assert len(record.logs) == MAX_LINES + 1
    assert record.logs[-1]["truncated"] == 300 - MAX_LINES
    assert record.logs[MAX_LINES - 1]["message"] == f"line {MAX_LINES - 1}"


def test_a_fork_inside_a_tasks_wait_is_refused_and_one_before_it_asks_again(
    client: Client, operator: dict[str, str], make_user: Any
) -> None:
    make_user("anna", "approvers")
    original = wait_for_status(
        start(client, operator, "ask-quickly", {"who": ["anna"], "seconds": 0.5}), "completed"
    )
    assert original.output == {"outcome": "timeout", "by": []}
    wait = original.steps.get(kind="task")
    opened = original.steps.get(seq=wait.seq - 1)
    inside = api(client, "post", f"/api/runs/{original.pk}/fork", operator, {"from_seq": wait.seq})
    assert inside.status_code == 409
    assert inside.json()["field"] == "from_seq"
    assert f"fork from the step that opened it ({opened.seq})" in inside.json()["message"]

    again = api(client, "post", f"/api/runs/{original.pk}/fork", operator, {"from_seq": opened.seq})
    assert again.status_code == 201, again.json()
    fork = wait_for_status(Run.objects.get(pk=again.json()["id"]), "completed")
    tasks = HumanTask.objects.filter(run__in=[original, fork]).order_by("pk")
    assert [task.run_id for task in tasks] == [original.pk, fork.pk]  # asked again, anew


def test_a_fork_after_a_parallel_group_keeps_the_group_as_it_ran(
    client: Client, operator: dict[str, str]
) -> None:
    original = wait_for_status(
        start(
            client, operator, "test-fork-after-parallel", {"numbers": [2, 3], "card": "declined"}
        ),
        "failed",
    )
    forked = api(
        client,
        "post",
        f"/api/runs/{original.pk}/fork",
        operator,
        {"from_seq": 1, "input": {"numbers": [10, 20], "card": "visa"}},
    )
    assert forked.status_code == 201, forked.json()
    fork = wait_for_status(Run.objects.get(pk=forked.json()["id"]), "completed")
    assert fork.output == {"sum": 13, "charge": "charged visa"}  # the group's recorded squares
    kept = list(fork.steps.filter(seq=0).order_by("branch").values_list("branch", "status"))
    assert kept == [(0, "completed"), (1, "completed"), (2, "completed")]
    # A parallel step's log lines are kept with its branch, and copied with it.
    assert [line["message"] for line in fork.steps.get(seq=0, branch=2).logs] == ["squaring 3"]
    assert list(effects(str(fork.pk))) == [f"stepwise:{fork.pk}:1:charge_card"]  # no square
