# engine.core.step(...) is annotated "-> Any", which strict mypy calls an untyped decorator.
"""Timeouts: per step attempt, for a whole run, and for a wait that ends in a reminder."""

from datetime import timedelta
from typing import Any

from engine.core import WaitTimeout, step, uuid4, wait_for, workflow


@step(name="slow-operation", timeout=30)
def slow_operation(data: dict[str, Any]) -> dict[str, Any]:
    """An operation that must not take longer than 30 seconds (simulated)."""
    return {"done": True, "input": data}


@workflow("timed-operation", tags=("demo", "timeouts"))
def timed_operation(data: dict[str, Any]) -> dict[str, Any]:
    """Run a slow operation whose attempt fails if it takes more than 30 seconds."""
    # A timed-out attempt counts as a failed one (StepTimeout); with no retry policy the step
    # fails for good and so does the run, unless the workflow catches StepFailed.
    result: dict[str, Any] = slow_operation(data)
    return result


QUOTE_DEADLINE = timedelta(hours=4)


@step(name="request-quote")
def request_quote(request_id: str, supplier: str, items: list[str]) -> dict[str, Any]:
    """Ask the supplier for a quote (simulated)."""
    return {"requestId": request_id, "supplier": supplier, "items": items}


@step(name="accept-quote")
def accept_quote(quote: dict[str, Any]) -> dict[str, Any]:
    """Accept the quote (simulated)."""
    return {"accepted": True, **quote}


@workflow("supplier-quote", timeout=QUOTE_DEADLINE, tags=("demo", "timeouts"))
def supplier_quote(request: dict[str, Any]) -> dict[str, Any]:
    """Ask a supplier for a quote and accept it; the whole run gives up after 4 hours."""
    request_id = request.get("request_id") or uuid4()  # uuid4() is journaled: replays agree
    request_quote(request_id, request["supplier"], request["items"])
    # No timeout on the wait itself: the run's own timeout ends the run as timed_out.
    quote = wait_for("Quote.received", match={"requestId": request_id})
    accepted: dict[str, Any] = accept_quote(quote["payload"])
    return accepted


SIGNATURE_DEADLINE = timedelta(days=3)
SIGNATURE_GRACE = timedelta(days=2)


@step(name="send-for-signature")
def send_for_signature(contract: dict[str, Any]) -> dict[str, Any]:
    """Send the contract to the signer (simulated)."""
    return {"sent": True, "to": contract["signer"], "contractId": contract["id"]}


@step(name="remind-signer")
def remind_signer(contract: dict[str, Any]) -> dict[str, Any]:
    """Remind the signer (simulated email)."""
    return {"sent": True, "to": contract["signer"], "template": "signature-reminder"}


@step(name="withdraw-contract")
def withdraw_contract(contract: dict[str, Any]) -> dict[str, Any]:
    """Withdraw the unsigned contract (simulated)."""
    return {"withdrawn": contract["id"]}


@workflow("contract-signature", tags=("demo", "timeouts"))
def contract_signature(contract: dict[str, Any]) -> dict[str, Any]:
    """Ask for a signature; remind after 3 days, withdraw if still unsigned 2 days later."""
    send_for_signature(contract)
    match = {"contractId": contract["id"]}
    try:
        signed = wait_for("Contract.signed", match=match, timeout=SIGNATURE_DEADLINE)
    except WaitTimeout:
        remind_signer(contract)
        try:
            signed = wait_for("Contract.signed", match=match, timeout=SIGNATURE_GRACE)
        except WaitTimeout:
            withdraw_contract(contract)
            return {"status": "withdrawn", "reminded": True}
        return {"status": "signed", "reminded": True, "signedAt": signed["received_at"]}
    return {"status": "signed", "reminded": False, "signedAt": signed["received_at"]}
