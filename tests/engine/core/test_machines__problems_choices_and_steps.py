"""State machine definitions: every structural problem named where it is, the transition an
event takes (or why none), and the order of exits, actions and entries."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from engine.core.machine_code import State, StateMachine, Transition, register_machine
from engine.core.machine_moves import Refused, allowed_events, choose, delays, eventless, step_for
from engine.core.machines import MachineError, machine_problems, parse_machine

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


def action(name: str) -> dict[str, Any]:
    return {"type": "action.python", "config": {"action": name}}


def order_document() -> dict[str, Any]:
    """The seed's order machine, as the canvas stores it."""

    def state(state_id: str, **more: Any) -> dict[str, Any]:
        return {"id": state_id, "label": state_id.title(), **more}

    def on(source: str, event: str, target: str, **more: Any) -> dict[str, Any]:
        return {
            "id": f"{source}-{event}",
            "source": source,
            "event": event,
            "target": target,
            **more,
        }

    return {
        "initial": "draft",
        "context": {"items": []},
        "states": [
            state("draft"),
            state("pending", entry=[action("announce")]),
            state("processing", entry=[action("announce")], exit=[action("leave")]),
            state("completed", entry=[action("announce")]),
            state("cancelled", final=True),
            state("failed"),
            state("returned", final=True),
        ],
        "transitions": [
            on(
                "draft",
                "submit",
                "pending",
                guard="size(context.items) > 0",
                actions=[action("submitted")],
            ),
            on("pending", "pay", "processing", actions=[action("charge")]),
            on("pending", "cancel", "cancelled"),
            on("processing", "fulfill", "completed", actions=[action("ship")]),
            on("processing", "fail", "failed"),
            on(
                "completed",
                "return",
                "returned",
                guard="now - timestamp(context.completed_at) <= duration('720h')",
            ),
            on("failed", "retry", "processing"),
        ],
    }


def test_the_order_machine_has_no_problems_and_starts_in_draft() -> None:
    assert machine_problems(order_document()) == []
    machine = parse_machine(order_document())
    assert machine.start() == "draft"
    assert [v.transition.event for v in allowed_events(machine, "pending", {}, NOW)] == [
        "pay",
        "cancel",
    ]


def where(document: dict[str, Any]) -> list[tuple[str | None, str | None]]:
    return [(p.node, p.field) for p in machine_problems(document)]


def test_each_structural_problem_names_its_state_or_transition() -> None:
    document = order_document()
    document["transitions"][0]["target"] = "nowhere"
    assert ("draft-submit", "target") in where(document)

    document = order_document()
    document["transitions"] = [t for t in document["transitions"] if t["id"] != "failed-retry"]
    assert where(document) == [("failed", "final")]  # a dead end that is not final

    document = order_document()
    document["transitions"] = [t for t in document["transitions"] if t["id"] != "processing-fail"]
    assert ("failed", None) in where(document)  # nothing leads to it

    document = order_document()
    document["transitions"].append(
        {"id": "again", "source": "pending", "event": "cancel", "target": "failed"}
    )
    problems = machine_problems(document)
    assert [(p.node, p.field) for p in problems] == [("again", "guard")]
    assert "'pending-cancel' already leaves 'pending' on cancel" in problems[0].message

    document = order_document()
    document["transitions"][0]["guard"] = "input.total > 3"
    assert [(p.node, p.field) for p in machine_problems(document)] == [("draft-submit", "guard")]
    assert "context, event and now" in machine_problems(document)[0].message

    document = order_document()
    document["transitions"][1] = {**document["transitions"][1], "after": "30x"}
    assert ("pending-pay", "event") in where(document)  # both an event and a delay
    assert ("pending-pay", "after") in where(document)

    assert where({"initial": "a", "states": []}) == [(None, "states"), (None, "initial")]
    assert where({**order_document(), "initial": "ghost"}) == [(None, "initial")]
    with pytest.raises(MachineError, match=r"draft-submit\.target"):
        parse_machine(
            {
                **order_document(),
                "transitions": [{**order_document()["transitions"][0], "target": "x"}],
            }
        )


def test_an_event_with_no_transition_is_refused_naming_state_and_allowed_events() -> None:
    machine = parse_machine(order_document())
    with pytest.raises(Refused, match=r"cannot `pay` from `draft`; allowed: submit"):
        choose(machine, "draft", "pay", {}, {}, NOW)
    with pytest.raises(Refused, match=r"allowed: nothing \(it is final\)"):
        choose(machine, "cancelled", "pay", {}, {}, NOW)


def test_a_failing_guard_is_named_and_a_passing_one_chooses() -> None:
    machine = parse_machine(order_document())
    with pytest.raises(Refused) as refused:
        choose(machine, "draft", "submit", {"items": []}, {}, NOW)
    assert refused.value.guard == "size(context.items) > 0"
    assert "is false" in refused.value.message
    chosen = choose(machine, "draft", "submit", {"items": [1]}, {}, NOW)
    assert chosen.target == "pending"

    completed_at = (NOW - timedelta(days=31)).isoformat()
    with pytest.raises(Refused, match="duration"):
        choose(machine, "completed", "return", {"completed_at": completed_at}, {}, NOW)
    day_29 = (NOW - timedelta(days=29)).isoformat()
    assert choose(machine, "completed", "return", {"completed_at": day_29}, {}, NOW)


def test_a_step_exits_then_acts_then_enters() -> None:
    machine = parse_machine(order_document())
    step = step_for(machine, "processing", choose(machine, "processing", "fulfill", {}, {}, NOW))
    assert [a["config"]["action"] for _, a in step.exits] == ["leave"]
    assert [a["config"]["action"] for a in step.actions] == ["ship"]
    assert [(s, a["config"]["action"]) for s, a in step.entries] == [("completed", "announce")]
    assert step.target == "completed"


def compound() -> StateMachine:
    """A ticket: open holds new → triaged; close from anywhere in open; auto-escalate."""
    return StateMachine(
        initial="open",
        states={
            "open": State(
                initial="new",
                entry="enter-open",
                exit="leave-open",
                on={"close": Transition("closed", action="closing")},
                after={"7d": Transition("stale")},
                states={
                    "new": State(
                        on={"triage": Transition("triaged")}, entry="enter-new", exit="leave-new"
                    ),
                    "triaged": State(
                        entry="enter-triaged",
                        always=[Transition("urgent", guard="context.priority == 'high'")],
                    ),
                    "urgent": State(),
                },
            ),
            "stale": State(on={"close": Transition("closed")}),
            "closed": State(final=True),
        },
    )


def test_compound_states_enter_their_initial_child_and_bubble_events_up() -> None:
    machine = compound().definition
    assert machine.start() == "new"
    close = choose(machine, "new", "close", {}, {}, NOW)  # defined on the parent
    step = step_for(machine, "new", close)
    assert [action for _, action in step.exits] == ["leave-new", "leave-open"]
    assert step.actions == ("closing",)
    assert step.target == "closed"

    triage = step_for(machine, "new", choose(machine, "new", "triage", {}, {}, NOW))
    assert [action for _, action in triage.exits] == ["leave-new"]  # open stays entered
    assert [action for _, action in triage.entries] == ["enter-triaged"]

    assert eventless(machine, "triaged", {"priority": "low"}, NOW) is None
    urgent = eventless(machine, "triaged", {"priority": "high"}, NOW)
    assert urgent is not None and urgent.target == "urgent"
    assert [t.after_seconds for t in delays(machine, "urgent")] == [7 * 86400]


def test_a_python_machine_with_a_mistake_is_refused_where_it_is_made() -> None:
    with pytest.raises(MachineError, match=r"there is no state .nowhere."):
        StateMachine(initial="a", states={"a": State(on={"go": Transition("nowhere")})})
    with pytest.raises(MachineError, match=r"b\.final: no transition leaves"):
        StateMachine(initial="a", states={"a": State(on={"go": Transition("b")}), "b": State()})
    with pytest.raises(MachineError, match="a state with child states names one"):
        StateMachine(initial="a", states={"a": State(states={"x": State(final=True)})})


def test_listen_rows_and_registered_actions_are_checked_when_declared() -> None:
    """A bad `listen` row names its field; a code machine registers only steps or action nodes."""
    document = {**order_document(), "listen": [{"type": "paid", "event": "pay"}]}
    assert [(p.node, p.field) for p in machine_problems(document)] == [
        (None, "listen[0].type"),
        (None, "listen[0].key"),
    ]
    document["listen"] = [{"type": "Order.paid", "event": "pay", "key": "orderId"}]
    listen = parse_machine(document).listen
    assert [(row.type, row.event, row.key) for row in listen] == [("Order.paid", "pay", "orderId")]

    with pytest.raises(MachineError, match=r"'loose'.*a\.entry: an action is a @step"):
        register_machine(
            "loose", StateMachine(initial="a", states={"a": State(entry="x", final=True)})
        )
    with pytest.raises(MachineError, match="listen"):
        StateMachine(initial="a", states={"a": State(final=True)}, listen={"nope": "go"})
