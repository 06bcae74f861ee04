"""Code workflows that ask people, for the tests of human tasks on real workers.

Input: {"who": [user names], "seconds": timeout} and, for the escalating one, {"then": [...]}.
"""

from typing import Any

from engine.core import approval, workflow


@workflow("ask-quickly")
def ask_quickly(input: dict[str, Any]) -> dict[str, Any]:
    """One approval with a short timeout; returns how it ended."""
    decision = approval("Quick question", users=input["who"], timeout=input["seconds"])
    return {"outcome": decision.outcome, "by": [d["user"] for d in decision.decisions]}


@workflow("ask-then-escalate")
def ask_then_escalate(input: dict[str, Any]) -> dict[str, Any]:
    """Reminded after 1 s, escalated to `then` after `seconds`, given a minute more."""
    decision = approval(
        "Needs an answer",
        users=input["who"],
        timeout=input["seconds"],
        reminder=1,
        escalate_to={"users": input["then"]},
        escalation_timeout=60,
        name="answer",
    )
    return {"outcome": decision.outcome, "by": [d["user"] for d in decision.decisions]}


@workflow("ask-with-a-form")
def ask_with_a_form(input: dict[str, Any]) -> dict[str, Any]:
    """An approval whose approver fills in a cost centre; a rejection must say why."""
    decision = approval(
        "Buy a laptop",
        users=["ana"],
        form={
            "type": "object",
            "required": ["cost_centre"],
            "properties": {"cost_centre": {"type": "string", "enum": ["R&D", "Sales"]}},
        },
        comment_required=["rejected"],
        name="laptop",
    )
    return {"outcome": decision.outcome, "form": decision.decisions[0].get("form")}


@workflow("ask-in-office-hours")
def ask_in_office_hours(input: dict[str, Any]) -> dict[str, Any]:
    """An approval that times out after eight working hours of a Berlin office."""
    decision = approval(
        "Within a working day",
        users=["ana"],
        timeout=8 * 3600,
        calendar={"timezone": "Europe/Berlin", "start": "09:00", "end": "17:00"},
        name="office",
    )
    return {"outcome": decision.outcome}
