"""/health reports the database, Redis, the last worker heartbeat and the timer loop's lag."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client, override_settings
from django.utils import timezone

from engine.models import ProcessHeartbeat

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_heartbeats() -> None:
    """The worker and timer loop other tests started beat into this database: a first beat
    after a test's flush is a new row, which a test would see between its own writes. Locked
    for the test's transaction, their beats wait until it rolls back."""
    with connection.cursor() as cursor:
        cursor.execute(f"LOCK TABLE {ProcessHeartbeat._meta.db_table} IN EXCLUSIVE MODE")
    ProcessHeartbeat.objects.all().delete()


def beat(kind: str, seconds_ago: float, **details: object) -> None:
    moment = timezone.now() - timedelta(seconds=seconds_ago)
    ProcessHeartbeat.objects.create(
        kind=kind, name=f"{kind}@test", started_at=moment, last_seen=moment, details=details
    )


def test_without_heartbeats_the_status_is_degraded_and_says_why(client: Client) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["database"] == {"ok": True, "vendor": "postgresql"}
    assert body["redis"] == {"configured": True, "ok": True}
    assert body["worker"]["last_heartbeat"] is None
    assert "no worker heartbeat yet" in body["problems"]
    assert "the timer loop has not ticked yet" in body["problems"]


def test_fresh_heartbeats_make_it_ok(client: Client) -> None:
    beat("worker", 1)
    beat("timer", 0.7, interval=0.5)
    body = client.get("/health").json()
    assert body["status"] == "ok", body["problems"]
    assert body["problems"] == []
    assert body["worker"]["alive"] == 1
    assert 0.9 < body["worker"]["seconds_ago"] < 5
    assert 0.1 < body["timer_loop"]["lag_seconds"] < 5


@override_settings(STEPWISE_STALE_AFTER_SECONDS=30)
def test_stale_heartbeats_are_degraded_with_their_age(client: Client) -> None:
    beat("worker", 95)
    beat("timer", 120.5, interval=0.5)
    body = client.get("/health").json()
    assert body["status"] == "degraded"
    assert body["worker"]["alive"] == 0
    assert "no worker heartbeat for 95s" in body["problems"]
    assert "the timer loop is 120s behind" in body["problems"]


@override_settings(REDIS_URL="redis://127.0.0.1:1/0")
def test_unreachable_redis_is_reported(client: Client) -> None:
    beat("worker", 1)
    beat("timer", 0.5, interval=0.5)
    body = client.get("/health").json()
    assert body["status"] == "degraded"
    assert body["redis"]["ok"] is False
    assert any(problem.startswith("Redis unreachable") for problem in body["problems"])


def test_the_overview_page_shows_the_same_report(client: Client, make_user) -> None:
    client.force_login(make_user("vera", "viewers"))
    beat("worker", 1)
    page = client.get("/").content.decode()
    assert 'data-testid="system-status">degraded<' in page
    assert "the timer loop has not ticked yet" in page
    fragment = client.get("/", headers={"HX-Request": "true"}).content.decode()
    assert fragment.lstrip().startswith('<section id="system"')
    assert "<html" not in fragment
