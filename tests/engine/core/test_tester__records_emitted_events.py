"""WorkflowTester records what a workflow emits, without a database, and delivers it to the
tester's runs that wait for it, as the engine's mailbox does."""

from typing import Any

from engine.core import emit, wait_for, workflow
from engine.core.testing import EMIT_STEP, WorkflowTester


@workflow("test-tester-emits")
def ships(order: dict[str, Any]) -> dict[str, Any]:
    sent = emit("Cargo.shipped", {"order": order["id"]})
    return {"event": sent["id"]}


@workflow("test-tester-waits")
def waits_for_shipping(order: dict[str, Any]) -> dict[str, Any]:
    shipped = wait_for("Cargo.shipped", match={"order": order["id"]})
    return {"shipped": shipped["payload"]}


def test_emitted_events_are_recorded_with_the_step_idempotency_key_as_id() -> None:
    tester = WorkflowTester()
    run = tester.run(ships, {"id": 7})
    assert run.status == "completed"
    assert [(event["type"], event["payload"]) for event in tester.emitted] == [
        ("Cargo.shipped", {"order": 7})
    ]
    assert run.output == {"event": tester.emitted[0]["id"]}
    assert tester.calls(EMIT_STEP) == 1


def test_an_emitted_event_reaches_a_run_of_the_same_tester_that_waits_for_it() -> None:
    tester = WorkflowTester()
    waiting = tester.run(waits_for_shipping, {"id": 9})
    assert waiting.status == "waiting"
    tester.run(ships, {"id": 9})
    assert tester.result(waiting.id).output == {"shipped": {"order": 9}}


def test_emit_can_be_faked_like_any_step() -> None:
    tester = WorkflowTester()
    tester.fake(EMIT_STEP, returns={"id": "fixed", "type": "Cargo.shipped", "payload": {}})
    assert tester.run(ships, {"id": 1}).output == {"event": "fixed"}
    assert tester.emitted == []
