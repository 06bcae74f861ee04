"""Runs and events through the JSON API, executed by a real worker."""

import pytest
from django.test import Client

from accounts.models import ApiToken
from engine.models import Run
from tests.engine.runtime.test_engine__runs_through_real_workers import wait_for_status

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("side_effects_table", "celery_worker"),
]


@pytest.fixture
def operator(make_user) -> dict[str, str]:
    _, raw = ApiToken.issue(make_user("olga", "operators"), "ci")
    return {"Authorization": f"Bearer {raw}"}


@pytest.fixture
def viewer(make_user) -> dict[str, str]:
    _, raw = ApiToken.issue(make_user("vera", "viewers"), "ci")
    return {"Authorization": f"Bearer {raw}"}


def test_start_a_run_and_read_its_journal(client: Client, operator, viewer) -> None:
    started = client.post(
        "/api/workflows/test-sequence/runs",
        {"input": {"steps": 2}},
        content_type="application/json",
        headers=operator,
    )
    assert started.status_code == 201
    run_id = started.json()["id"]
    assert started.json()["trigger"] == "api"
    wait_for_status(Run.objects.get(pk=run_id), "completed")
    detail = client.get(f"/api/runs/{run_id}", headers=viewer).json()
    assert detail["output"] == ["step-1", "step-2"]
    assert [(s["name"], s["status"], s["attempt"]) for s in detail["steps"]] == [
        ("step-1", "completed", 1),
        ("step-2", "completed", 1),
    ]
    assert all(step["duration_ms"] is not None for step in detail["steps"])
    listed = client.get("/api/runs?workflow=test-sequence&status=completed", headers=viewer)
    assert run_id in [run["id"] for run in listed.json()]


def test_the_same_idempotency_key_answers_the_existing_run(client: Client, operator) -> None:
    body = {"input": {"steps": 1}, "idempotency_key": "order-77"}
    first = client.post(
        "/api/workflows/test-sequence/runs", body, content_type="application/json", headers=operator
    )
    again = client.post(
        "/api/workflows/test-sequence/runs", body, content_type="application/json", headers=operator
    )
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]


def test_an_event_through_the_api_completes_a_waiting_run(client: Client, operator) -> None:
    run_id = client.post(
        "/api/workflows/test-wait/runs",
        {"input": {"order_id": 31}},
        content_type="application/json",
        headers=operator,
    ).json()["id"]
    wait_for_status(Run.objects.get(pk=run_id), "waiting")
    event = {
        "type": "Approval.decided",
        "payload": {"order_id": 31, "approved": True},
        "id": "api-31",
    }
    delivered = client.post("/api/events", event, content_type="application/json", headers=operator)
    assert delivered.status_code == 202
    assert delivered.json() == {
        "id": "api-31",
        "type": "Approval.decided",
        "created": True,
        "woken_runs": [run_id],
        "started_runs": [],
    }
    duplicate = client.post("/api/events", event, content_type="application/json", headers=operator)
    assert duplicate.json()["created"] is False
    assert wait_for_status(Run.objects.get(pk=run_id), "completed").output["approved"] is True


def test_cancel_retry_and_their_refusals(client: Client, operator, viewer) -> None:
    run_id = client.post(
        "/api/workflows/test-wait/runs",
        {"input": {"order_id": 32}},
        content_type="application/json",
        headers=operator,
    ).json()["id"]
    assert client.post(f"/api/runs/{run_id}/cancel", headers=viewer).status_code == 403
    cancelled = client.post(f"/api/runs/{run_id}/cancel", headers=operator)
    # A run that did something first undoes it (this one has nothing to undo), then ends.
    assert cancelled.json()["status"] in ("cancelling", "cancelled")  # the worker may be quick
    wait_for_status(Run.objects.get(pk=run_id), "cancelled")
    again = client.post(f"/api/runs/{run_id}/cancel", headers=operator)
    assert again.status_code == 409
    assert "already ended cancelled" in again.json()["detail"]
    retried = client.post(f"/api/runs/{run_id}/retry", headers=operator)
    assert retried.status_code == 200, retried.json()
    wait_for_status(Run.objects.get(pk=run_id), "waiting")
    refused = client.post(f"/api/runs/{run_id}/retry", headers=operator)
    assert refused.status_code == 409
    assert "only failed, cancelled or timed-out runs" in refused.json()["detail"]
    assert client.post("/api/runs/999999/cancel", headers=operator).status_code == 404


def test_bad_bodies_name_the_field_and_change_nothing(client: Client, operator) -> None:
    before = Run.objects.count()
    unknown = client.post(
        "/api/workflows/nope/runs", {}, content_type="application/json", headers=operator
    )
    assert unknown.status_code == 404
    assert unknown.json()["detail"] == "slug: no workflow called 'nope'"
    long_key = client.post(
        "/api/workflows/test-sequence/runs",
        {"input": {}, "idempotency_key": "x" * 201},
        content_type="application/json",
        headers=operator,
    )
    assert long_key.status_code == 422
    assert "idempotency_key" in str(long_key.json())
    no_type = client.post(
        "/api/events", {"payload": {}}, content_type="application/json", headers=operator
    )
    assert no_type.status_code == 422
    assert "type" in str(no_type.json())
    bad_payload = client.post(
        "/api/events",
        {"type": "X.y", "payload": [1]},
        content_type="application/json",
        headers=operator,
    )
    assert bad_payload.status_code == 422
    assert "payload" in str(bad_payload.json())
    bad_status = client.get("/api/runs?status=sleeping", headers=operator)
    assert bad_status.status_code == 422
    assert "status" in bad_status.json()["detail"]
    assert Run.objects.count() == before


def test_cancel_takes_a_reason_and_may_skip_the_undo(client: Client, operator) -> None:
    from engine.models import Record

    def start_waiting(hold: str) -> int:
        started = client.post(
            "/api/workflows/saga-hold/runs",
            {"input": {"hold": hold, "charge_url": "http://127.0.0.1:9/", "wait": True}},
            content_type="application/json",
            headers=operator,
        )
        wait_for_status(Run.objects.get(pk=started.json()["id"]), "waiting")
        return int(started.json()["id"])

    run_id = start_waiting("api-hold-1")
    bad = client.post(
        f"/api/runs/{run_id}/cancel",
        {"compensate": "yes"},
        content_type="application/json",
        headers=operator,
    )
    assert bad.status_code == 422
    assert bad.json()["detail"].startswith("compensate: ")
    assert Run.objects.get(pk=run_id).status == "waiting"  # a refused body changes nothing

    skipped = client.post(
        f"/api/runs/{run_id}/cancel",
        {"reason": "duplicate order", "compensate": False},
        content_type="application/json",
        headers=operator,
    )
    assert skipped.status_code == 200, skipped.json()
    assert skipped.json()["status"] == "cancelled"
    assert skipped.json()["error"] == {"type": "Cancelled", "message": "duplicate order"}
    assert Record.objects.filter(collection="Holds", key="api-hold-1").count() == 1

    run_id = start_waiting("api-hold-2")
    undoing = client.post(f"/api/runs/{run_id}/cancel", headers=operator)
    assert undoing.json()["status"] in ("cancelling", "cancelled")
    assert wait_for_status(Run.objects.get(pk=run_id), "cancelled").stopped_at is not None
    assert Record.objects.filter(collection="Holds", key="api-hold-2").count() == 0
