"""Machines the integration tests run through real workers (listed in the test settings'
STEPWISE_WORKFLOW_MODULES so that workers register them too)."""

from typing import Any

from engine.core import (
    NonRetryableError,
    State,
    StateMachine,
    Transition,
    action,
    register_machine,
    step,
)
from tests.engine.flows import record_effect


@step(name="tick")
def tick(context: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    """Leave one effect per execution and remember which event this was."""
    record_effect("tick")
    return {"context": {"seen": [*context.get("seen", []), data["n"]]}}


TOGGLE = StateMachine(
    initial="even",
    context={"seen": []},
    states={
        "even": State(on={"tick": Transition("odd", action=tick)}),
        "odd": State(on={"tick": Transition("even", action=tick)}),
    },
)

register_machine("test-toggle", TOGGLE, title="Toggle")


@action("test.machine-refuse")
def machine_refuse(**arguments: Any) -> None:
    """An entry action that fails for good: what it ran before must not outlive the attempt."""
    raise NonRetryableError("refused by the test action")
