"""MachineTester applies events to a machine in memory as the engine does: the seed's order
machine through every path, delayed transitions on a virtual clock, `always` moves, refusals
that name the state and event or guard, and action nodes answered by stubs."""

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from engine.core import State, StateMachine, Transition, step
from engine.core.machines import MachineError
from engine.core.testing import MachineTester, TestInstance
from engine.demos.order_machine import ORDER_MACHINE

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ITEMS = {"items": [{"sku": "A-1", "quantity": 2}]}


def completed_order(tester: MachineTester) -> TestInstance:
    order = tester.create("order-1042", ITEMS)
    assert tester.send(order, "submit").applied
    assert tester.send(order, "pay", {"paymentId": "pay-7"}).applied
    # Delivery happened now on the virtual clock; the return window counts from it.
    assert tester.send(order, "fulfill", {"completedAt": tester.clock.isoformat()}).applied
    return order


def test_the_order_machine_runs_its_happy_path_with_every_action_in_order() -> None:
    """Each event runs exit, transition and entry actions in the engine's order, the actions'
    `{"context": ...}` outputs merge into the context, and the history keeps every event."""
    tester = MachineTester(ORDER_MACHINE, start=START)
    order = tester.create("order-1042", ITEMS)
    assert (order.state, order.history[0].name, order.history[0].status) == (
        "draft",
        "@start",
        "applied",
    )

    submitted = tester.send(order, "submit")
    assert (submitted.from_state, submitted.to_state) == ("draft", "pending")
    assert submitted.action_types() == ["announce-submission", "notify-customer"]
    assert [a["phase"] for a in submitted.actions] == ["transition", "entry"]

    tester.send(order, "pay", {"paymentId": "pay-7"})
    tester.send(order, "fulfill", {"completedAt": tester.clock.isoformat()})
    assert order.state == "completed"
    assert order.context == {
        "items": ITEMS["items"],
        "submitted": True,
        "paymentId": "pay-7",
        "shipmentId": "ship-simulated",
        "completed_at": START.isoformat(),
    }
    assert order.event_names() == ["@start", "submit", "pay", "fulfill"]
    assert not order.final


def test_a_return_on_day_29_is_refunded() -> None:
    """Inside the thirty days the return guard holds: the order is refunded and final."""
    tester = MachineTester(ORDER_MACHINE, start=START)
    order = completed_order(tester)
    tester.advance(timedelta(days=29))
    returned = tester.send(order, "return")
    assert returned.applied, returned.reason
    assert (order.state, order.final, order.context["refunded"]) == ("returned", True, True)
    assert returned.at == START + timedelta(days=29)
    assert tester.allowed(order) == []


def test_a_return_on_day_31_is_refused_by_the_guard_and_changes_nothing() -> None:
    """Guards see `now` as the virtual clock: after 31 days the 30-day window is closed, the
    refusal names the guard and the order stays completed, its context untouched."""
    tester = MachineTester(ORDER_MACHINE, start=START)
    order = completed_order(tester)
    before = dict(order.context)
    tester.advance(timedelta(days=31))
    refused = tester.send(order, "return")
    assert refused.status == "refused"
    assert refused.reason.startswith("cannot `return` from `completed`: the guard `now - timestamp")
    assert refused.guard.startswith("now - timestamp(context.completed_at)")
    assert refused.actions == []
    assert (order.state, order.context, order.history[-1]) == ("completed", before, refused)
    [verdict] = tester.allowed(order)
    assert (verdict["event"], verdict["allowed"]) == ("return", False)


def test_the_other_paths_cancel_fail_and_retry() -> None:
    """Cancelling from draft or pending ends the order; a failed payment can be retried."""
    tester = MachineTester(ORDER_MACHINE, start=START)
    early = tester.create("order-1", ITEMS)
    assert tester.send(early, "cancel").to_state == "cancelled"
    assert early.final

    late = tester.create("order-2", ITEMS)
    tester.send(late, "submit")
    assert tester.send(late, "cancel").to_state == "cancelled"

    failing = tester.create("order-3", ITEMS)
    for event in ("submit", "pay", "fail", "retry"):
        assert tester.send(failing, event).applied, event
    assert failing.state == "processing"
    assert failing.history[-1].action_types() == ["notify-customer"]


def test_a_refusal_names_the_state_the_event_and_what_is_allowed() -> None:
    """The engine's own messages: no transition lists the allowed events; a guard that said
    no is named; a final state allows nothing. The state never changes."""
    tester = MachineTester(ORDER_MACHINE, start=START)
    order = tester.create("order-1042")
    assert tester.send(order, "pay").reason == "cannot `pay` from `draft`; allowed: cancel, submit"
    empty = tester.send(order, "submit")
    assert (
        empty.reason == "cannot `submit` from `draft`: the guard `size(context.items) > 0` is false"
    )
    assert empty.guard == "size(context.items) > 0"
    assert [(v["event"], v["allowed"]) for v in tester.allowed(order)] == [
        ("submit", False),
        ("cancel", True),
    ]
    tester.send(order, "cancel")
    final = tester.send(order, "submit")
    assert final.reason == "cannot `submit` from `cancelled`; allowed: nothing (it is final)"
    assert order.state == "cancelled"
    with pytest.raises(ValueError, match="engine's own event"):
        tester.send(order, "@start")


def expiring_machine(**more: Any) -> dict[str, Any]:
    """A quote that expires 48 hours after it is sent unless it is accepted."""
    return {
        "initial": "draft",
        "states": [
            {"id": "draft"},
            {"id": "sent"},
            {"id": "accepted", "final": True},
            {"id": "expired", "final": True},
        ],
        "transitions": [
            {"id": "send", "source": "draft", "event": "send", "target": "sent"},
            {"id": "accept", "source": "sent", "event": "accept", "target": "accepted"},
            {"id": "expire", "source": "sent", "after": "48h", "target": "expired", **more},
        ],
    }


def test_a_delayed_transition_fires_when_the_clock_reaches_it() -> None:
    """advance() fires the timer at its due time, counted from entering the state, not
    before; the history records it as `after:<transition id>`."""
    tester = MachineTester(expiring_machine(), start=START)
    quote = tester.create("quote-1")
    tester.advance(timedelta(hours=5))
    tester.send(quote, "send")
    [timer] = quote.timers
    assert timer.due_at == START + timedelta(hours=53)
    assert tester.advance(timedelta(hours=47)) == []
    [fired] = tester.advance(timedelta(days=2))
    assert (fired.name, fired.to_state, fired.at) == ("after:expire", "expired", timer.due_at)
    assert (quote.state, quote.timers) == ("expired", [])
    assert tester.clock == START + timedelta(hours=100)


def test_a_delayed_transition_does_not_fire_once_its_state_was_left() -> None:
    """Leaving the state drops its timer, as the engine's commit does."""
    tester = MachineTester(expiring_machine(), start=START)
    quote = tester.create("quote-1")
    tester.send(quote, "send")
    tester.advance(timedelta(hours=47))
    tester.send(quote, "accept")
    assert tester.advance(timedelta(days=3)) == []
    assert (quote.state, quote.timers) == ("accepted", [])


def test_a_delayed_transition_guard_reads_the_virtual_now() -> None:
    """A guard on a delayed transition sees `now` at the timer's due time; a refused timer
    is recorded and leaves the state as it was."""
    weekend = "now.getDayOfWeek() == 0 || now.getDayOfWeek() == 6"
    tester = MachineTester(expiring_machine(guard=weekend), start=START)  # a Monday
    quote = tester.create("quote-1")
    tester.send(quote, "send")
    [refused] = tester.advance(timedelta(days=3))
    assert refused.status == "refused"
    assert refused.reason.startswith("cannot take `expire` from `sent`: the guard")
    assert quote.state == "sent"


def test_always_transitions_follow_a_move_by_their_guards() -> None:
    """After the event's move, eventless transitions are taken while a guard holds; their
    actions run in the same event and each move is one step of it."""
    tester = MachineTester(
        {
            "initial": "idle",
            "context": {"amount": 0},
            "states": [
                {"id": "idle"},
                {"id": "checking"},
                {"id": "review", "entry": [{"type": "action.slack", "config": {}}]},
                {"id": "approved", "final": True},
            ],
            "transitions": [
                {"id": "claim", "source": "idle", "event": "claim", "target": "checking"},
                {
                    "id": "large",
                    "source": "checking",
                    "always": True,
                    "guard": "context.amount > 1000",
                    "target": "review",
                },
                {
                    "id": "small",
                    "source": "checking",
                    "always": True,
                    "guard": "context.amount <= 1000",
                    "target": "approved",
                },
                {"id": "approve", "source": "review", "event": "approve", "target": "approved"},
            ],
        },
        start=START,
        actions={"action.slack": lambda config, scope: {"posted": True}},
    )
    small = tester.create("claim-1", {"amount": 40})
    assert tester.send(small, "claim").to_state == "approved"
    large = tester.create("claim-2", {"amount": 4000})
    claimed = tester.send(large, "claim")
    assert (claimed.transition, claimed.to_state) == ("claim", "review")
    assert claimed.actions == [
        {"phase": "entry", "state": "review", "type": "action.slack", "output": {"posted": True}}
    ]


def test_a_stubbed_action_node_answers_for_it_and_updates_the_context() -> None:
    """An action node is not run: its stub gets the config as written and the scope its
    templates would read, and its `{"context": ...}` output merges like a real one's."""
    seen: list[tuple[Mapping[str, Any], Mapping[str, Any]]] = []

    def http(config: Mapping[str, Any], scope: Mapping[str, Any]) -> Any:
        seen.append((config, scope))
        return {"status": 200, "context": {"trackingId": f"T-{scope['event']['parcel']}"}}

    lookup = {
        "type": "action.http",
        "config": {"url": "https://carrier.example/{{ event.parcel }}"},
    }
    document = expiring_machine()
    document["transitions"][0]["actions"] = [lookup]
    tester = MachineTester(document, start=START, actions={"action.http": http}, slug="quote")
    quote = tester.create("quote-1")
    sent = tester.send(quote, "send", {"parcel": 9})
    assert sent.applied
    assert quote.context == {"trackingId": "T-9"}
    [(config, scope)] = seen
    assert config == lookup["config"]
    assert scope["instance"] == {"id": 1, "machine": "quote", "key": "quote-1", "state": "draft"}
    assert (scope["event"], scope["now"]) == ({"parcel": 9}, START)


def test_an_unstubbed_action_node_fails_the_event_naming_its_type() -> None:
    """Without a stub the event fails, as an action that failed for good: the reason names
    the node type and the instance keeps its state and context."""
    document = expiring_machine()
    document["states"][1]["entry"] = [{"type": "action.email", "config": {}}]
    tester = MachineTester(document, start=START)
    quote = tester.create("quote-1")
    failed = tester.send(quote, "send")
    assert failed.status == "failed"
    assert failed.reason.startswith("the entry action action.email of `sent` failed: ")
    assert "action.email is not run by the tester" in failed.reason
    assert (quote.state, quote.timers) == ("draft", [])
    assert failed.actions[0]["error"]["type"].endswith("UnstubbedAction")


@step(name="reserve-stock")
def reserve_stock(context: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    return {"context": {"reserved": True}}


@step(name="charge-card")
def charge_card(context: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    raise RuntimeError(f"card {data['card']} declined")


CHECKOUT = StateMachine(
    initial="cart",
    states={
        "cart": State(on={"checkout": Transition("paid", action=[reserve_stock, charge_card])}),
        "paid": State(final=True),
    },
)


def test_a_step_that_raises_fails_the_event_after_the_actions_before_it() -> None:
    """Steps run for real with (context, data); one that raises fails the event, the actions
    run before it are recorded and the context keeps none of their changes."""
    tester = MachineTester(CHECKOUT, start=START)
    cart = tester.create("cart-1")
    failed = tester.send(cart, "checkout", {"card": "4242"})
    assert failed.reason == (
        "the transition action charge-card of `cart.checkout.0` failed: card 4242 declined"
    )
    assert failed.actions[0] == {
        "phase": "transition",
        "transition": "cart.checkout.0",
        "type": "reserve-stock",
        "output": {"context": {"reserved": True}},
    }
    assert failed.actions[1]["error"]["message"] == "card 4242 declined"
    assert (cart.state, cart.context) == ("cart", {})


def test_a_document_with_problems_is_refused_where_it_is_given() -> None:
    """The tester checks a document as publishing does."""
    with pytest.raises(MachineError, match="there is no state 'nowhere'"):
        MachineTester({"initial": "nowhere", "states": [{"id": "draft", "final": True}]})
