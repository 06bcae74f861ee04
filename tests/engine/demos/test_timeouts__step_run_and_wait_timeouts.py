"""A slow attempt fails, a run past its timeout ends timed_out, a late signer is reminded."""

import threading
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from engine.core.testing import WorkflowTester
from engine.demos import timeouts


def test_the_step_timeout_is_declared_as_30_seconds() -> None:
    """slow-operation carries the seed's 30-second timeout."""
    assert timeouts.slow_operation.timeout == 30


def test_an_attempt_past_the_step_timeout_fails_the_step(monkeypatch: pytest.MonkeyPatch) -> None:
    """An attempt that outlives the step's timeout fails with StepTimeout, and so does the run."""
    # The same step with a 50 ms timeout, so the test does not wait 30 real seconds.
    monkeypatch.setattr(timeouts, "slow_operation", replace(timeouts.slow_operation, timeout=0.05))
    release = threading.Event()
    tester = WorkflowTester()

    def slow(data: dict[str, Any]) -> dict[str, Any]:
        release.wait(5)
        return {"done": True}

    tester.fake(timeouts.slow_operation, slow)
    try:
        run = tester.run(timeouts.timed_operation, {"size": 1})
    finally:
        release.set()  # let the abandoned attempt's thread end

    assert run.status == "failed"
    assert run.steps == [("slow-operation", "failed", 1)]
    assert run.error is not None
    assert run.error["cause"]["type"] == "engine.core.errors.StepTimeout"


def test_a_run_past_its_timeout_ends_timed_out() -> None:
    """With no quote, the supplier-quote run ends timed_out at its 4-hour timeout."""
    tester = WorkflowTester()

    run = tester.run(
        timeouts.supplier_quote, {"request_id": "q-1", "supplier": "acme", "items": ["bolts"]}
    )

    assert run.status == "timed_out"
    assert run.elapsed == timedelta(hours=4)
    assert run.error == {"type": "RunTimeout", "message": "the run passed its timeout"}
    assert tester.calls(timeouts.accept_quote) == 0


def test_a_quote_in_time_completes_the_run() -> None:
    """A quote an hour in is accepted and the run completes."""
    tester = WorkflowTester()
    tester.send_event(
        "Quote.received", {"requestId": "q-1", "price": 120}, after=timedelta(hours=1)
    )

    run = tester.run(
        timeouts.supplier_quote, {"request_id": "q-1", "supplier": "acme", "items": ["bolts"]}
    )

    assert run.status == "completed"
    assert run.output == {"accepted": True, "requestId": "q-1", "price": 120}


def test_a_generated_request_id_survives_a_crash() -> None:
    """The uuid4() request id is journaled: the replay after a crash asks with the same id."""
    tester = WorkflowTester()
    tester.interrupt_after("request-quote")

    tester.run(timeouts.supplier_quote, {"supplier": "acme", "items": ["bolts"]})

    (request_id, *_), _ = tester.call_args(timeouts.request_quote)[0]
    assert len(request_id) == 36
    assert tester.calls(timeouts.request_quote) == 1


def test_a_late_signer_is_reminded_and_can_still_sign() -> None:
    """No signature in 3 days sends a reminder; signing on day 4 completes the run."""
    tester = WorkflowTester()
    tester.send_event("Contract.signed", {"contractId": "c-1"}, after=timedelta(days=4))

    run = tester.run(timeouts.contract_signature, {"id": "c-1", "signer": "ada@example.com"})

    assert run.output["status"] == "signed"
    assert run.output["reminded"] is True
    assert run.step_names() == ["send-for-signature", "remind-signer"]


def test_a_signer_in_time_gets_no_reminder() -> None:
    """Signing on day 1 completes without a reminder."""
    tester = WorkflowTester()
    tester.send_event("Contract.signed", {"contractId": "c-1"}, after=timedelta(days=1))

    run = tester.run(timeouts.contract_signature, {"id": "c-1", "signer": "ada@example.com"})

    assert run.output["reminded"] is False
    assert tester.calls(timeouts.remind_signer) == 0


def test_an_unsigned_contract_is_withdrawn_after_the_grace_period() -> None:
    """Still unsigned 2 days after the reminder, the contract is withdrawn on day 5."""
    tester = WorkflowTester()

    run = tester.run(timeouts.contract_signature, {"id": "c-1", "signer": "ada@example.com"})

    assert run.output == {"status": "withdrawn", "reminded": True}
    assert run.elapsed == timedelta(days=5)
    assert run.step_names() == ["send-for-signature", "remind-signer", "withdraw-contract"]
