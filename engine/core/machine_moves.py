"""What an event does to a machine: which transition it takes (or why none), and the exits,
actions and entries of taking it. Plain Python over engine.core.machines' definition."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from engine.core.expressions import ExpressionError, compile_expression, evaluate_condition
from engine.core.machines import MachineDefinition, TransitionDef


@dataclass(frozen=True)
class Verdict:
    """Whether one transition may be taken now, and if not, why."""

    transition: TransitionDef
    allowed: bool
    reason: str = ""

    def as_dict(self) -> dict[str, Any]:
        """As `GET /api/instances/{id}` lists it in `allowed_events`."""
        return {
            "event": self.transition.event,
            "transition": self.transition.id,
            "target": self.transition.target,
            "guard": self.transition.guard_label(),
            "allowed": self.allowed,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class Step:
    """One move: the actions to run in order (exit, transition, entry) and where it ends."""

    transition: TransitionDef
    source: str
    target: str
    exits: tuple[tuple[str, Any], ...]
    actions: tuple[Any, ...]
    entries: tuple[tuple[str, Any], ...]
    exited: tuple[str, ...] = ()
    """The states left, innermost first (with or without exit actions)."""
    entered: tuple[str, ...] = ()
    """The states entered, outermost first."""


class Refused(Exception):
    """The event cannot be applied in this state: no transition, or every guard said no."""

    def __init__(self, message: str, *, guard: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.guard = guard


def guard_scope(
    context: Mapping[str, Any], data: Mapping[str, Any], now: datetime
) -> dict[str, Any]:
    return {"context": dict(context), "event": dict(data), "now": now}


def verdict(
    transition: TransitionDef, context: Mapping[str, Any], data: Mapping[str, Any], now: datetime
) -> Verdict:
    guard = transition.guard
    if guard is None:
        return Verdict(transition, True)
    if callable(guard):
        allowed = bool(guard(context, data))
        reason = "" if allowed else f"the guard {transition.guard_label()} said no"
        return Verdict(transition, allowed, reason)
    try:
        expression = compile_expression(guard, node=transition.id, field="guard")
        allowed = evaluate_condition(expression, guard_scope(context, data, now))
    except ExpressionError as error:
        return Verdict(transition, False, f"the guard `{guard}` failed: {error.message}")
    return Verdict(transition, allowed, "" if allowed else f"the guard `{guard}` is false")


def allowed_events(
    definition: MachineDefinition, leaf: str, context: Mapping[str, Any], now: datetime
) -> list[Verdict]:
    """Each event transition that applies in `leaf`, with its guard's verdict on no data."""
    return [
        verdict(transition, context, {}, now)
        for transition in definition.outgoing(leaf)
        if transition.event is not None
    ]


def choose(
    definition: MachineDefinition,
    leaf: str,
    event: str,
    context: Mapping[str, Any],
    data: Mapping[str, Any],
    now: datetime,
) -> TransitionDef:
    """The transition `event` takes from `leaf`: the innermost state's first whose guard holds.

    Raises Refused naming the state and what it allows, or the guard that said no.
    """
    candidates = [t for t in definition.outgoing(leaf) if t.event == event]
    if not candidates:
        allowed = sorted({t.event for t in definition.outgoing(leaf) if t.event is not None})
        listed = (
            ", ".join(allowed)
            if allowed
            else "nothing (it is final)"
            if definition.is_final(leaf)
            else "no events"
        )
        raise Refused(f"cannot `{event}` from `{leaf}`; allowed: {listed}")
    verdicts = [verdict(t, context, data, now) for t in candidates]
    for found in verdicts:
        if found.allowed:
            return found.transition
    refusal = verdicts[0]
    raise Refused(
        f"cannot `{event}` from `{leaf}`: {refusal.reason}", guard=refusal.transition.guard_label()
    )


def step_for(definition: MachineDefinition, leaf: str, transition: TransitionDef) -> Step:
    """The exits, actions and entries of taking `transition` from the active `leaf`.

    States are exited from the leaf up to (not including) the innermost state that holds both
    the transition's source and its target, and entered from there down to the target, then
    into initial children. A transition whose target is its own source leaves and re-enters it.
    """
    target_leaf = definition.settle(transition.target)
    leaving = definition.path(leaf)
    entering = definition.path(target_leaf)
    source_path = definition.path(transition.source)
    target_path = definition.path(transition.target)
    common = next(
        (
            state
            for state in source_path
            if state in target_path and state not in (transition.source, transition.target)
        ),
        None,
    )
    exited = leaving[: leaving.index(common)] if common in leaving else leaving
    entered = list(reversed(entering[: entering.index(common)] if common in entering else entering))
    return Step(
        transition=transition,
        source=leaf,
        target=target_leaf,
        exits=tuple((state, a) for state in exited for a in definition.states[state].exit),
        actions=transition.actions,
        entries=tuple((state, a) for state in entered for a in definition.states[state].entry),
        exited=tuple(exited),
        entered=tuple(entered),
    )


def start_step(definition: MachineDefinition) -> Step:
    """Entering the machine: its initial state's entries, outermost first, down to the leaf."""
    leaf = definition.start()
    entered = tuple(reversed(definition.path(leaf)))
    return Step(
        transition=TransitionDef(id="", source="", target=leaf),
        source="",
        target=leaf,
        exits=(),
        actions=(),
        entries=tuple((state, a) for state in entered for a in definition.states[state].entry),
        entered=entered,
    )


def eventless(
    definition: MachineDefinition, leaf: str, context: Mapping[str, Any], now: datetime
) -> TransitionDef | None:
    """The `always` transition to take from `leaf` now, if any guard holds."""
    for transition in definition.outgoing(leaf):
        if transition.always and verdict(transition, context, {}, now).allowed:
            return transition
    return None


def delays(definition: MachineDefinition, leaf: str) -> list[TransitionDef]:
    """The delayed transitions that count from entering `leaf` (and its ancestors)."""
    return [t for t in definition.outgoing(leaf) if t.after_seconds is not None]
