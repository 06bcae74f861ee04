# engine.core.step(...) is annotated "-> Any", which strict mypy calls an untyped decorator.
"""Retry policies: exponential, linear and fixed back-off, and errors that are never retried."""

from typing import Any

from engine.core import NonRetryableError, Retry, step, workflow

# The seed's retry pattern library, as policies. Delays are in seconds; the wait between
# attempts is a durable timer, so a run backing off holds no worker.
EXPONENTIAL = Retry(max_attempts=3, backoff="exponential", initial_delay=1.0, max_delay=30.0)
"""1 s, 2 s, 4 s … capped at 30 s (with ±10 % jitter, seeded per step so replays agree)."""
LINEAR = Retry(max_attempts=5, backoff="linear", initial_delay=2.0, jitter=0)
"""2 s, 4 s, 6 s, 8 s."""
FIXED = Retry(
    max_attempts=4, backoff="fixed", initial_delay=5.0, jitter=0, non_retryable=(ValueError,)
)
"""5 s between attempts; a ValueError (bad data) fails at once."""


class RecordRejected(NonRetryableError):
    """The partner refused the record for good: retrying would only repeat the refusal."""


@step(name="call-api", retry=EXPONENTIAL)
def call_external_api(data: dict[str, Any]) -> dict[str, Any]:
    """Call an external API (simulated echo)."""
    return {"ok": True, "echo": data}


@workflow("api-call", tags=("demo", "retries"))
def api_call(data: dict[str, Any]) -> dict[str, Any]:
    """Call a flaky external API, up to 3 attempts with exponential back-off from 1 second."""
    result: dict[str, Any] = call_external_api(data)
    return result


@step(name="fetch-changes", retry=LINEAR)
def fetch_changes(since: str) -> list[dict[str, Any]]:
    """Fetch the partner's changes since a cursor (simulated)."""
    return [{"id": f"{since}-1", "name": "Ada"}]


@step(name="push-changes", retry=FIXED)
def push_changes(changes: list[dict[str, Any]]) -> dict[str, Any]:
    """Push the changes to the CRM (simulated); a record without a name is refused for good."""
    for change in changes:
        if not change.get("name"):
            raise RecordRejected(f"record {change['id']} has no name")
    return {"pushed": len(changes)}


@workflow("partner-sync", tags=("demo", "retries"))
def partner_sync(request: dict[str, Any]) -> dict[str, Any]:
    """Sync a partner's changes: fetch with linear back-off, push with a fixed one."""
    changes = fetch_changes(request["since"])
    pushed: dict[str, Any] = push_changes(changes)
    return pushed
