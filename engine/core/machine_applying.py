"""Applying one event to one machine instance, without storage: the event's first move, the
`always` moves after it, the order of the actions, how their outputs change the context and
what the history records. The engine (engine.machines.applying) runs each action as a journaled
step and commits the outcome; the tester (engine.core.machine_testing) runs them in memory.
Both go through this module, so the two cannot apply an event differently.

How actions update the context, one rule for both kinds of action: an output that is an object
with a `context` object merges that object into the context (its keys replace the context's
top-level keys); any other output is only recorded in the event's history. An `action.python`
whose function returns `{"context": {"paid": true}}` sets `context.paid`.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from engine.core.definitions import StepDefinition
from engine.core.errors import StepFailed
from engine.core.machine_moves import (
    Refused,
    Step,
    choose,
    eventless,
    start_step,
    step_for,
    verdict,
)
from engine.core.machines import ALWAYS_LIMIT, MachineDefinition, TransitionDef

START = "@start"
"""The first event of every instance: it enters the initial state and runs its entry actions.
No sender can use the name (event names start with a letter)."""

TIMER_PREFIX = "after:"
"""A delayed transition that came due is the event `after:<transition id>`, its data
`{"entered_at": <when its state was entered>}`."""


@dataclass(frozen=True)
class ActionCall:
    """One action to run: `name` is its step name, `scope` what node actions' templates and CEL
    read, `code_args` what a step action is called with (the context, the event's data)."""

    action: Any
    name: str
    scope: dict[str, Any]
    code_args: tuple[dict[str, Any], dict[str, Any]]
    phase: str = ""
    """exit, transition or entry."""
    where: str = ""
    """The state exited or entered, or the transition's id."""


ActionRunner = Callable[[ActionCall], Any]
"""Runs one action and returns its output; raises StepFailed when it failed for good."""


class ActionFailed(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def action_label(action: Any) -> str:
    if isinstance(action, StepDefinition):
        return action.name
    if isinstance(action, Mapping):
        return str(action.get("type", "action"))
    return type(action).__name__


def merged_context(context: dict[str, Any], output: Any) -> dict[str, Any]:
    """The context after an action that returned `output` (see the module's rule)."""
    if isinstance(output, Mapping) and isinstance(output.get("context"), Mapping):
        return {**context, **output["context"]}
    return context


@dataclass
class Applying:
    """One event's way through the machine: `instance` is {id, machine, key} as actions see it,
    `entered_at` when the instance entered its current state."""

    definition: MachineDefinition
    instance: dict[str, Any]
    leaf: str
    context: dict[str, Any]
    data: dict[str, Any]
    entered_at: datetime
    run: ActionRunner
    actions: list[dict[str, Any]] = field(default_factory=list)
    moves: list[dict[str, Any]] = field(default_factory=list)

    def take(self, move: Step) -> None:
        """Exit actions innermost first, the transition's actions, entry actions outermost
        first: each a step, in this order on every replay."""
        for state, action in move.exits:
            self._run("exit", state, action)
        for action in move.actions:
            self._run("transition", move.transition.id, action)
        for state, action in move.entries:
            self._run("entry", state, action)
        self.moves.append(
            {
                "transition": move.transition.id,
                "from": move.source,
                "to": move.target,
                "exited": list(move.exited),
                "entered": list(move.entered),
            }
        )
        self.leaf = move.target

    def settle(self, at: datetime) -> None:
        """Take the eventless (`always`) transitions whose guards hold, up to ALWAYS_LIMIT."""
        for _ in range(ALWAYS_LIMIT):
            transition = eventless(self.definition, self.leaf, self.context, at)
            if transition is None:
                return
            self.take(step_for(self.definition, self.leaf, transition))

    def _run(self, phase: str, where: str, action: Any) -> None:
        label = action_label(action)
        name = f"{phase} {where}: {label}"[:200]
        place = "transition" if phase == "transition" else "state"
        record: dict[str, Any] = {"phase": phase, place: where, "type": label}
        scope = {
            "context": self.context,
            "event": self.data,
            "instance": {**self.instance, "state": self.leaf},
        }
        try:
            output = self.run(
                ActionCall(
                    action,
                    name,
                    scope,
                    (dict(self.context), dict(self.data)),
                    phase=phase,
                    where=where,
                )
            )
        except StepFailed as failed:
            self.actions.append({**record, "error": failed.error})
            raise ActionFailed(
                f"the {phase} action {label} of `{where}` failed: "
                f"{failed.error.get('message', failed.error.get('type', 'error'))}"
            ) from None
        self.actions.append({**record, "output": output})
        self.context = merged_context(self.context, output)


def apply(applying: Applying, event: str, at: datetime) -> dict[str, Any]:
    """Take `event`'s first move and the `always` moves after it; the outcome to commit:
    {at, from, status (applied, refused or failed), reason, guard, to, context, actions,
    moves, transition}. Nothing is committed when the status is not `applied`."""
    outcome: dict[str, Any] = {
        "at": at.isoformat(),
        "from": "" if event == START else applying.leaf,
    }
    try:
        applying.take(first_move(applying, event, at))
        applying.settle(at)
    except Refused as refusal:
        outcome |= {"status": "refused", "reason": refusal.message, "guard": refusal.guard}
    except ActionFailed as failure:
        outcome |= {"status": "failed", "reason": failure.reason}
    else:
        outcome |= {"status": "applied", "to": applying.leaf, "context": applying.context}
    return outcome | {
        "actions": applying.actions,
        "moves": applying.moves,
        "transition": applying.moves[0]["transition"] if applying.moves else "",
    }


def first_move(applying: Applying, event: str, at: datetime) -> Step:
    """What the event does first; raises Refused naming the state and the event or guard."""
    definition, leaf = applying.definition, applying.leaf
    if event == START:
        return start_step(definition)
    if event.startswith(TIMER_PREFIX):
        transition = timer_transition(applying, event.removeprefix(TIMER_PREFIX), at)
    else:
        transition = choose(definition, leaf, event, applying.context, applying.data, at)
    return step_for(definition, leaf, transition)


def timer_transition(applying: Applying, transition_id: str, at: datetime) -> TransitionDef:
    """The delayed transition that came due, unless the instance left its state meanwhile
    (the timer fired while another event was being applied) or its guard says no."""
    definition, leaf = applying.definition, applying.leaf
    transition = definition.transition(transition_id)
    if transition is None or transition.after_seconds is None:
        raise Refused(f"there is no delayed transition `{transition_id}`")
    due_from = applying.data.get("entered_at")
    reentered = due_from is not None and datetime.fromisoformat(due_from) < applying.entered_at
    if transition.source not in definition.path(leaf) or (transition.source == leaf and reentered):
        raise Refused(
            f"`{transition_id}` no longer applies: the instance left `{transition.source}`"
        )
    found = verdict(transition, applying.context, {}, at)
    if not found.allowed:
        raise Refused(
            f"cannot take `{transition_id}` from `{leaf}`: {found.reason}",
            guard=transition.guard_label(),
        )
    return transition


def timer_changes(
    definition: MachineDefinition, moves: list[dict[str, Any]]
) -> tuple[set[str], list[TransitionDef]]:
    """After an applied event's moves: the delayed transitions to drop (those of every state
    left) and those to count from now (those of the states entered and not left again by a
    later `always` move)."""
    exited: set[str] = set()
    entered: list[str] = []
    for move in moves:
        exited.update(move["exited"])
        entered = [state for state in entered if state not in move["exited"]] + move["entered"]
    delayed = [t for t in definition.transitions if t.after_seconds is not None]
    dropped = {t.id for t in delayed if t.source in exited}
    return dropped, [t for state in entered for t in delayed if t.source == state]
