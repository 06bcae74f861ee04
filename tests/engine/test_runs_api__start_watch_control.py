"""Runs and events through the JSON API, executed by a real worker."""

import pytest
from django.test import Client

from config.accounts.models import ApiToken
from engine.models import Run
from tests.engine.test_engine__runs_through_real_workers import wait_for_status

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
    assert cancelled.json()["status"] == "cancelled"
    again = client.post(f"/api/runs/{run_id}/cancel", headers=operator)
    assert again.status_code == 409
    assert "already ended cancelled" in again.json()["detail"]
    refused = client.post(f"/api/runs/{run_id}/retry", headers=operator)
    assert refused.status_code == 409
    assert client.post("/api/runs/999999/cancel", headers=operator).status_code == 404


def test_bad_bodies_name_the_field_and_change_nothing(client: Client, operator) -> None:
    before = Run.objects.count()
    unknown = client.post(
        "/api/workflows/nope/runs", {}, content_type="application/json", headers=operator
    )
    assert unknown.status_code == 404
    assert unknown.json()["detail"] == "workflow: no workflow called 'nope'"
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
