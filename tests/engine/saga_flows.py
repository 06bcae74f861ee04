"""Code workflows for the retry-and-cancel rule on real workers: a hold kept as a Record, a
charge sent to a local HTTP server, a Saga that releases the hold.

Input: {"hold": "<key>", "charge_url": "<url>"} and optionally {"wait": true} to wait for a
`Hold.go` event (with the hold's key) between the reservation and the charge.
"""

from datetime import timedelta
from typing import Any

import httpx
from django.utils import timezone

from engine.core import (
    NonRetryableError,
    Saga,
    idempotency_key,
    run_child,
    step,
    wait_for,
    workflow,
)
from engine.models import Record, Run, StepRecord

HOLDS = "Holds"


def holds(key: str) -> list[Record]:
    """The holds with this key (what the world says, whatever the run says)."""
    return list(Record.objects.filter(collection=HOLDS, key=key))


def journal(run: Run) -> list[tuple[str, str, bool]]:
    """(name, status, superseded) of every step and compensation, in the order written."""
    return list(
        StepRecord.objects.filter(run=run, kind="step")
        .order_by("id")
        .values_list("name", "status", "superseded")
    )


@step(name="reserve")
def reserve(hold: str) -> str:
    """Make the hold once per idempotency key (a redelivered attempt finds it)."""
    now = timezone.now()
    Record.objects.get_or_create(
        created_by_step=idempotency_key(),
        defaults={
            "collection": HOLDS,
            "key": hold,
            "data": {"by": idempotency_key()},
            "created_at": now,
            "updated_at": now,
        },
    )
    return hold


@step(name="release")
def release(hold: str) -> int:
    deleted, _ = Record.objects.filter(collection=HOLDS, key=hold).delete()
    return deleted


@step(name="charge")
def charge(url: str) -> int:
    answer = httpx.post(url, headers={"Idempotency-Key": idempotency_key()}, timeout=10)
    if answer.status_code >= 500:
        raise NonRetryableError(f"the payment service answered {answer.status_code}")
    return answer.status_code


@step(name="slow-call")
def slow_call(url: str) -> int:
    return httpx.post(url, headers={"Idempotency-Key": idempotency_key()}, timeout=10).status_code


def _order(input: dict[str, Any]) -> str:
    with Saga() as saga:
        hold = reserve(input["hold"])
        saga.add(release.call(hold))
        if input.get("wait"):
            wait_for("Hold.go", match={"hold": hold})
        charge(input["charge_url"])
    return hold


@workflow("saga-hold")
def hold_and_charge(input: dict[str, Any]) -> str:
    """Reserve a hold, charge for it; the saga releases the hold if the charge fails."""
    return _order(input)


@workflow("saga-hold-kept", compensate_on_cancel=False)
def hold_and_charge_keeping_holds(input: dict[str, Any]) -> str:
    """As saga-hold, but a cancelled run keeps its hold."""
    return _order(input)


@workflow("saga-hold-in-time", timeout=timedelta(seconds=2))
def hold_and_charge_in_time(input: dict[str, Any]) -> str:
    """As saga-hold with a run timeout of 2 s."""
    return _order(input)


@workflow("saga-hold-parent")
def parent(input: dict[str, Any]) -> str:
    """Orders through the saga-hold child workflow."""
    return str(run_child("saga-hold", input))


@workflow("two-calls")
def two_calls(input: dict[str, Any]) -> list[int]:
    """A slow call, then another: pausing during the first must not make it happen twice."""
    first = slow_call(input["first_url"])
    return [first, slow_call(input["second_url"])]
