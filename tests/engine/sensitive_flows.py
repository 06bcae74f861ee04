"""A code workflow whose input schema marks fields sensitive, for the masking tests: its
steps, name, output and progress message quote those values the way real workflows do."""

import time
from typing import Any

from engine.core import progress, step, wait_for, workflow

INPUT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "customer": {
            "type": "object",
            "properties": {
                "name": {"type": "string"},
                "email": {"type": "string", "x-sensitive": True},
            },
        },
        "cards": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "number": {"type": "string", "writeOnly": True},
                    "label": {"type": "string"},
                },
            },
        },
        "pin": {"type": "integer", "x-sensitive": True},
        "wait": {"type": "boolean"},
        "steps": {"type": "integer"},
    },
}

# An input as a test starts it: what its readers may or may not see.
SAMPLE_INPUT: dict[str, Any] = {
    "customer": {"name": "Ada", "email": "ada@example.com"},
    "cards": [{"number": "4111 1111 1111", "label": "work"}],
    "pin": 4321,
}


@step
def greet(email: str, card: str, pause: float = 0.0) -> dict[str, Any]:
    if pause:
        time.sleep(pause)  # long enough for live updates to send its end (they are throttled)
    return {"greeting": f"Hello {email}", "card": card, "count": 3}


@step
def tick(index: int) -> int:
    return index


@workflow("test-sensitive", input_schema=INPUT_SCHEMA)
def sensitive(input: dict[str, Any]) -> dict[str, Any]:
    email = input["customer"]["email"]
    if input.get("wait"):
        wait_for("Sensitive.go", match={"name": input["customer"]["name"]}, timeout=60)
    progress(1, 2, f"writing to {email}")
    sent = greet.named(f"mail-{email}")(email, input["cards"][0]["number"], 0.5)
    for index in range(input.get("steps", 0)):
        tick.named(f"tick-{index}")(index)
    return {"sent_to": email, "name": input["customer"]["name"], "pin": input["pin"], **sent}
