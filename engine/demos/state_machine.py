# engine.core.step(...) is annotated "-> Any", which strict mypy calls an untyped decorator.
"""A state machine as a workflow: events drive transitions, guarded, with actions and hooks."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any

from engine.core import StepDefinition, WaitTimeout, step, wait_for_any, workflow

Guard = Callable[[dict[str, Any], dict[str, Any]], bool]
"""(context, event) → whether the transition may happen. Runs in workflow code, so it must be
deterministic: read the context and the journaled event, never the clock."""


@dataclass(frozen=True)
class Transition:
    target: str
    guard: Guard | None = None
    action: StepDefinition | None = None
    """A step called with (context, event payload); the dict it returns updates the context."""


@dataclass(frozen=True)
class State:
    on: Mapping[str, Transition] = field(default_factory=dict)
    entry: StepDefinition | None = None
    exit: StepDefinition | None = None
    linger: timedelta | None = None
    """How long to wait for an event here before the machine stops in this state; None waits
    for ever (unless the state has no transitions, which ends the machine at once)."""


@dataclass(frozen=True)
class StateMachine:
    initial: str
    states: Mapping[str, State]
    events: Mapping[str, str]
    """Event type → the machine's event name, e.g. "Order.paid" → "pay"."""


# --- the order machine's actions and hooks (simulated side effects) -----------------------
@step(name="announce-submission")
def announce_submission(context: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    """Tell the shop an order was submitted (simulated)."""
    return {"submitted": True}


@step(name="process-payment")
def process_payment(context: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    """Capture the payment (simulated)."""
    return {"paymentId": data.get("paymentId") or f"pay-{context['id']}"}


@step(name="create-shipment")
def create_shipment(context: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    """Create the shipment (simulated)."""
    return {"shipmentId": f"ship-{context['id']}"}


@step(name="enter-state")
def enter_state(state: str, context: dict[str, Any]) -> dict[str, Any]:
    """An entry hook: announce the order's new state (simulated)."""
    return {"orderId": context["id"], "state": state}


@step(name="update-order")
def update_order(order_id: str, state: str, context: dict[str, Any]) -> dict[str, Any]:
    """Store the order's state and context (simulated database update)."""
    return {"orderId": order_id, "status": state}


RETURN_WINDOW = timedelta(days=30)


def _has_items(context: dict[str, Any], event: dict[str, Any]) -> bool:
    return bool(context.get("items"))


def _within_return_window(context: dict[str, Any], event: dict[str, Any]) -> bool:
    completed = datetime.fromisoformat(context["completedAt"])
    return datetime.fromisoformat(event["received_at"]) - completed <= RETURN_WINDOW


ORDER_MACHINE = StateMachine(
    initial="draft",
    states=MappingProxyType(
        {
            "draft": State(
                on={"submit": Transition("pending", guard=_has_items, action=announce_submission)}
            ),
            "pending": State(
                entry=enter_state,
                on={
                    "pay": Transition("processing", action=process_payment),
                    "cancel": Transition("cancelled"),
                },
            ),
            "processing": State(
                entry=enter_state,
                on={
                    "fulfill": Transition("completed", action=create_shipment),
                    "fail": Transition("failed"),
                },
            ),
            "completed": State(
                entry=enter_state,
                on={"return": Transition("returned", guard=_within_return_window)},
                linger=RETURN_WINDOW,
            ),
            "cancelled": State(),
            "failed": State(on={"retry": Transition("processing")}, linger=timedelta(days=7)),
            "returned": State(),
        }
    ),
    events=MappingProxyType(
        {
            "Order.submitted": "submit",
            "Order.paid": "pay",
            "Order.fulfilled": "fulfill",
            "Order.cancelled": "cancel",
            "Order.failed": "fail",
            "Order.retried": "retry",
            "Order.returned": "return",
        }
    ),
)


def run_machine(
    machine: StateMachine, context: dict[str, Any], match: dict[str, Any]
) -> dict[str, Any]:
    """Drive a machine with the events that match until it reaches a state it cannot leave."""
    current = machine.initial
    history: list[dict[str, Any]] = []
    while True:
        state = machine.states[current]
        if not state.on:
            break
        try:
            event = wait_for_any(
                sorted(machine.events), match=match, timeout=state.linger, name=f"in-{current}"
            )
        except WaitTimeout:
            break  # nothing more happened in time: the machine rests in this state
        name = machine.events[event["type"]]
        transition = state.on.get(name)
        if transition is None:
            # The seed throws here; a long-lived order is better off ignoring a stray event
            # and keeping a record of it than failing as a whole.
            history.append({"event": name, "from": current, "rejected": "no such transition"})
            continue
        if transition.guard is not None and not transition.guard(context, event):
            history.append({"event": name, "from": current, "rejected": "guard failed"})
            continue
        if state.exit is not None:
            state.exit.named(f"exit-{current}")(current, context)
        if transition.action is not None:
            context = {**context, **transition.action(context, event["payload"])}
        history.append({"event": name, "from": current, "to": transition.target})
        current = transition.target
        context = {**context, f"{current}At": event["received_at"]}
        target = machine.states[current]
        if target.entry is not None:
            target.entry.named(f"enter-{current}")(current, context)
        update_order(context["id"], current, context)
    return {"state": current, "context": context, "history": history}


@workflow("order-lifecycle", tags=("demo", "state-machine"))
def order_lifecycle(order: dict[str, Any]) -> dict[str, Any]:
    """Follow an order through its states as its events arrive; invalid events are refused."""
    return run_machine(ORDER_MACHINE, dict(order), match={"orderId": order["id"]})
