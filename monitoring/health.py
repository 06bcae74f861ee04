"""What /health reports: the database, Redis, the workers' and the timer loop's heartbeats."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import redis
from django.conf import settings
from django.db import connection
from django.utils import timezone

from engine.models import ProcessHeartbeat, ProcessKind


@dataclass
class HealthReport:
    database: dict[str, Any]
    redis: dict[str, Any]
    worker: dict[str, Any]
    timer_loop: dict[str, Any]
    problems: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        return "degraded" if self.problems else "ok"

    def as_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "problems": self.problems,
            "database": self.database,
            "redis": self.redis,
            "worker": self.worker,
            "timer_loop": self.timer_loop,
        }


def check_database() -> dict[str, Any]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        return {"ok": False, "vendor": connection.vendor, "error": _short(exc)}
    return {"ok": True, "vendor": connection.vendor}


def check_redis() -> dict[str, Any]:
    if not settings.REDIS_URL:
        return {"configured": False, "ok": True}
    client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=1, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.RedisError as exc:
        return {"configured": True, "ok": False, "error": _short(exc)}
    finally:
        client.close()
    return {"configured": True, "ok": True}


def _latest(kind: str) -> ProcessHeartbeat | None:
    return ProcessHeartbeat.objects.filter(kind=kind).order_by("-last_seen").first()


def _seconds_since(moment: datetime, now: datetime) -> float:
    return round(max(0.0, (now - moment).total_seconds()), 3)


def check_worker(now: datetime) -> dict[str, Any]:
    stale_after = settings.STEPWISE_STALE_AFTER_SECONDS
    latest = _latest(ProcessKind.WORKER)
    if latest is None:
        return {"ok": False, "last_heartbeat": None, "seconds_ago": None, "alive": 0}
    alive = ProcessHeartbeat.objects.filter(
        kind=ProcessKind.WORKER, last_seen__gte=now - timedelta(seconds=stale_after)
    ).count()
    seconds_ago = _seconds_since(latest.last_seen, now)
    return {
        "ok": seconds_ago <= stale_after,
        "last_heartbeat": latest.last_seen.isoformat(),
        "seconds_ago": seconds_ago,
        "name": latest.name,
        "alive": alive,
    }


def check_timer_loop(now: datetime) -> dict[str, Any]:
    latest = _latest(ProcessKind.TIMER)
    if latest is None:
        return {"ok": False, "last_tick": None, "lag_seconds": None}
    interval = float(latest.details.get("interval", settings.STEPWISE_TIMER_INTERVAL_SECONDS))
    # Lag: how far behind its own schedule the loop is; 0 while it ticks on time.
    lag = round(max(0.0, _seconds_since(latest.last_seen, now) - interval), 3)
    return {
        "ok": lag <= settings.STEPWISE_STALE_AFTER_SECONDS,
        "last_tick": latest.last_seen.isoformat(),
        "lag_seconds": lag,
        "name": latest.name,
    }


def health_report() -> HealthReport:
    now = timezone.now()
    database = check_database()
    if database["ok"]:
        worker, timer_loop = check_worker(now), check_timer_loop(now)
    else:
        worker = {"ok": False, "error": "unknown: the database is unreachable"}
        timer_loop = {"ok": False, "error": "unknown: the database is unreachable"}
    report = HealthReport(database, check_redis(), worker, timer_loop)
    if not database["ok"]:
        report.problems.append(f"database unreachable: {database['error']}")
    if not report.redis["ok"]:
        report.problems.append(f"Redis unreachable: {report.redis['error']}")
    if database["ok"] and not worker["ok"]:
        report.problems.append(
            "no worker heartbeat yet"
            if worker["last_heartbeat"] is None
            else f"no worker heartbeat for {worker['seconds_ago']:.0f}s"
        )
    if database["ok"] and not timer_loop["ok"]:
        report.problems.append(
            "the timer loop has not ticked yet"
            if timer_loop["last_tick"] is None
            else f"the timer loop is {timer_loop['lag_seconds']:.0f}s behind"
        )
    return report


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"[:200]
