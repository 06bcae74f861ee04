"""A code workflow whose run page has something to explain: parallel steps with inputs, a
child run, a step that fails before it works (back-off), and a wait for an event."""

from typing import Any

from engine.core import parallel, run_child, step, wait_for, workflow
from tests.engine.flows import flaky


@step
def greet(person: str) -> dict[str, str]:
    return {"greeting": f"hello {person}"}


@workflow("test-timeline")
def explained(input: dict[str, Any]) -> dict[str, Any]:
    greetings = parallel([greet.named(f"greet-{p}").call(p) for p in input["people"]])
    child = run_child("test-sequence", {"steps": 1})
    partner = flaky(input["fail_times"])
    event = wait_for("Timeline.go", match={"n": input["n"]})
    return {"greetings": greetings, "child": child, "partner": partner, "go": event["payload"]}
