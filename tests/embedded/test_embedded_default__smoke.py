"""The embedded default, as `make run` starts it: SQLite, in-process worker and timer loop."""

import signal
import sqlite3

import httpx
import pytest

from tests.embedded.commands import embedded_environment, manage
from tests.http import csrf_headers, logged_in_client
from tests.processes import (
    free_port,
    start_process,
    wait_until,
)

pytestmark = pytest.mark.embedded


def test_serve_migrate_demo_login_probe_and_stop(tmp_path) -> None:
    env = embedded_environment(tmp_path)
    manage(env, "migrate", "--noinput", "-v", "0")
    logins = manage(env, "load_demo")
    for username in ("admin", "designer", "operator", "approver", "viewer"):
        assert f"stepwise-{username}" in logins

    port = free_port()
    server = start_process("embedded", ["manage.py", "serve", "--port", str(port)], env, tmp_path)
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: "Stepwise is serving at" in server.log(), 60, "the serving line", server)
        assert f"http://127.0.0.1:{port}/" in server.log()

        def healthy() -> bool:
            return httpx.get(f"{base_url}/health", timeout=2).json()["status"] == "ok"

        wait_until(healthy, 30, "/health to report ok", server)
        health = httpx.get(f"{base_url}/health").json()
        assert health["database"]["vendor"] == "sqlite"
        assert health["redis"] == {"configured": False, "ok": True}
        assert health["worker"]["name"].startswith("embedded@")

        # Every demo user can log in.
        for username in ("admin", "designer", "operator", "approver", "viewer"):
            logged_in_client(base_url, username, f"stepwise-{username}").close()

        operator = logged_in_client(base_url, "operator", "stepwise-operator")
        created = operator.post("/api/system/worker-probes", headers=csrf_headers(operator))
        assert created.status_code == 202, created.text
        probe_url = f"/api/system/worker-probes/{created.json()['id']}"
        wait_until(
            lambda: operator.get(probe_url).json()["answered_at"] is not None,
            20,
            "the in-process worker to answer the probe",
            server,
        )
        assert operator.get(probe_url).json()["answered_by"]

        # A demo workflow runs durably on SQLite through the in-process worker.
        started = operator.post(
            "/api/workflows/customer-onboarding/runs",
            json={"input": {"name": "Ada", "email": "ada@example.com", "id": "c-1"}},
            headers=csrf_headers(operator),
        )
        assert started.status_code == 201, started.text
        run_url = f"/api/runs/{started.json()['id']}"
        wait_until(
            lambda: operator.get(run_url).json()["status"] == "completed",
            20,
            "the demo run to complete",
            server,
        )
        assert len(operator.get(run_url).json()["steps"]) == 3
        # A durable sleep: the in-process timer loop fires it and the in-process worker resumes.
        paused = operator.post(
            "/api/workflows/email-campaign/runs",
            json={"input": {"segment": "smoke", "template": "t", "pause_seconds": 1}},
            headers=csrf_headers(operator),
        )
        assert paused.status_code == 201, paused.text
        paused_url = f"/api/runs/{paused.json()['id']}"
        wait_until(
            lambda: operator.get(paused_url).json()["status"] == "completed",
            30,
            "the demo run with a sleep to complete",
            server,
        )
        kinds = [step["kind"] for step in operator.get(paused_url).json()["steps"]]
        assert kinds.count("sleep") == 1 and kinds.count("step") == 13
        # An engine event reaches the machine instance that listens for its type (SQLite has
        # no JSON containment lookup: the published versions are read one by one there).
        made = operator.post(
            "/api/machines/order/instances",
            json={"key": "o-smoke", "context": {"items": ["book"]}},
            headers=csrf_headers(operator),
        )
        assert made.status_code == 201, made.text
        instance_url = f"/api/instances/{made.json()['id']}"
        sent = operator.post(
            "/api/events",
            json={"type": "Order.cancelled", "payload": {"orderId": "o-smoke"}},
            headers=csrf_headers(operator),
        )
        assert sent.status_code == 202, sent.text
        wait_until(
            lambda: operator.get(instance_url).json()["state"] == "cancelled",
            20,
            "the order instance to take the event",
            server,
        )
        # The run page and its timeline on SQLite (folds are summed up in SQL on PostgreSQL only).
        run_id = paused.json()["id"]
        assert operator.get(f"/runs/{run_id}/").status_code == 200
        timeline = operator.get(f"{paused_url}/timeline")
        assert timeline.status_code == 200, timeline.text
        assert any(row["name"] == "send-smoke-12" for row in timeline.json()["rows"])
    finally:
        exit_code = server.stop(signal.SIGINT, timeout=20)

    assert exit_code == 0, server.log_tail()
    assert "Stepwise stopped." in server.log()
    with sqlite3.connect(tmp_path / "stepwise.sqlite3") as database:
        assert database.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
