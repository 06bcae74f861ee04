"""Scheduled workflows: a daily report whose schedule is declared next to its code.

The schedule becomes a row of the admin's Engine > Schedules when a timer loop starts (or on
`manage.py sync_schedules`). It is created paused, so that trying Stepwise out starts no runs
nobody asked for: resume it there, or press "Run now" to see one report at once.
docs/schedules.md explains cron, time zones and the overlap and catch-up policies.
"""

from datetime import datetime, timedelta
from typing import Any

from engine.core import every, idempotency_key, now, step, workflow


@step(name="count-runs")
def count_runs(since: str, until: str) -> dict[str, int]:
    """How many runs started in the window, by status (read from Stepwise's own tables)."""
    # Deferred: workflow modules stay importable without Django's app registry (the demos'
    # tests run them under WorkflowTester alone).
    from django.db.models import Count

    from engine.models import Run

    rows = (
        Run.objects.filter(
            created_at__gte=datetime.fromisoformat(since),
            created_at__lt=datetime.fromisoformat(until),
        )
        .values("status")
        .annotate(runs=Count("id"))
    )
    return {row["status"]: row["runs"] for row in rows}


@step(name="send-report")
def send_report(to: str, since: str, counts: dict[str, int]) -> dict[str, Any]:
    """Send the report (simulated); the key lets a mail service drop a duplicate send."""
    lines = [f"{status}: {number}" for status, number in sorted(counts.items())]
    return {
        "sent": True,
        "to": to,
        "subject": f"Stepwise runs since {since[:16].replace('T', ' ')} UTC",
        "body": "\n".join(lines) or "No runs.",
        "idempotency_key": idempotency_key(),
    }


@workflow(
    "daily-report",
    tags=("demo", "schedules"),
    schedule=every.day.at(
        "09:00",
        timezone="Europe/Berlin",
        input={"to": "ops@acme.example"},
        paused=True,
        name="Daily run report",
    ),
)
def daily_report(input: dict[str, Any] | None) -> dict[str, Any]:
    """Mail the operations team yesterday's runs by status, every morning at 09:00 Berlin time."""
    # now() is journaled, so a replay reports on the same 24 hours.
    until = now()
    since = until - timedelta(days=1)
    counts = count_runs(since.isoformat(), until.isoformat())
    to = (input or {}).get("to", "ops@acme.example")
    report: dict[str, Any] = send_report(to, since.isoformat(), counts)
    return report
