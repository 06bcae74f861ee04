"""Machines written in Python, and the registry of the ones the engine runs by slug.

ORDER = StateMachine(initial="draft", states={"draft": State(on={"submit": ...})})
register_machine("order", ORDER, title="Order")
"""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from engine.core.definitions import StepDefinition
from engine.core.durations import parse_duration
from engine.core.machines import (
    Guard,
    Listen,
    MachineDefinition,
    MachineError,
    StateDef,
    TransitionDef,
    built_problems,
    listen_problems,
)
from engine.core.values import JSON

MACHINE_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,99}$")


@dataclass(frozen=True)
class Transition:
    """`Transition("pending", guard="size(context.items) > 0", action=announce)`."""

    target: str
    guard: Guard | None = None
    action: Any = None


@dataclass(frozen=True)
class State:
    """`State(on={"pay": Transition("paid")}, entry=..., exit=..., after={"30d": ...})`; a
    state with `states` is compound and enters `initial` first."""

    on: Mapping[str, Transition | Sequence[Transition]] = field(default_factory=dict)
    entry: Any = None
    exit: Any = None
    after: Mapping[str | float, Transition] = field(default_factory=dict)
    always: Sequence[Transition] = ()
    final: bool = False
    label: str = ""
    states: Mapping[str, "State"] = field(default_factory=dict)
    initial: str | None = None


def _as_tuple(value: Any) -> tuple[Any, ...]:
    if value is None:
        return ()
    return tuple(value) if isinstance(value, list | tuple) else (value,)


class StateMachine:
    """A machine written in Python: `StateMachine(initial="draft", states={...})`.

    Guards are CEL text or deterministic functions of (context, event data); actions are
    steps (`@step`, `@action`) called with (context, event data), each a journaled step when
    the engine runs the machine. `listen` maps engine events to machine events, e.g.
    `{"Order.paid": "pay"}` with `key="orderId"`, the payload field holding the instance key.
    """

    def __init__(
        self,
        *,
        initial: str,
        states: Mapping[str, State],
        context: Mapping[str, JSON] | None = None,
        listen: Mapping[str, str] | None = None,
        key: str = "",
    ) -> None:
        self.initial = initial
        self.states = dict(states)
        self.context = dict(context or {})
        self.listen = tuple(Listen(kind, event, key) for kind, event in (listen or {}).items())
        problems = listen_problems([vars(row) for row in self.listen])
        if problems:
            raise MachineError(f"{problems[0].field}: {problems[0].message}")
        self.definition = self._compile()

    def _compile(self) -> MachineDefinition:
        states: dict[str, StateDef] = {}
        transitions: list[TransitionDef] = []

        def add(state_id: str, state: State, parent: str | None) -> None:
            if state_id in states:
                raise MachineError(f"two states are called {state_id!r}")
            states[state_id] = StateDef(
                id=state_id,
                label=state.label,
                parent=parent,
                initial=state.initial,
                final=state.final,
                entry=_as_tuple(state.entry),
                exit=_as_tuple(state.exit),
            )
            for event, found in state.on.items():
                for index, transition in enumerate(_as_tuple(found)):
                    transitions.append(
                        _transition(
                            f"{state_id}.{event}.{index}", state_id, transition, event=event
                        )
                    )
            for delay, transition in state.after.items():
                seconds = parse_duration(delay)
                transitions.append(
                    _transition(f"{state_id}.after.{delay}", state_id, transition, after=seconds)
                )
            for index, transition in enumerate(state.always):
                transitions.append(
                    _transition(f"{state_id}.always.{index}", state_id, transition, always=True)
                )
            for child_id, child in state.states.items():
                add(child_id, child, state_id)

        for state_id, state in self.states.items():
            add(state_id, state, None)
        definition = MachineDefinition(
            self.initial, states, tuple(transitions), self.context, self.listen
        )
        problems = built_problems(definition)
        if problems:
            first = problems[0]
            where = ".".join(part for part in (first.node, first.field) if part)
            raise MachineError(f"{where}: {first.message}" if where else first.message)
        return definition


def _transition(
    transition_id: str,
    source: str,
    transition: Transition,
    *,
    event: str | None = None,
    after: float | None = None,
    always: bool = False,
) -> TransitionDef:
    return TransitionDef(
        id=transition_id,
        source=source,
        target=transition.target,
        event=event,
        after_seconds=after,
        always=always,
        guard=transition.guard,
        actions=_as_tuple(transition.action),
    )


# --- the registry ------------------------------------------------------------------------------
@dataclass(frozen=True)
class CodeMachine:
    """A machine registered from code: the engine runs it as version 0 of `slug`."""

    slug: str
    title: str
    machine: StateMachine

    @property
    def definition(self) -> MachineDefinition:
        return self.machine.definition


_machines: dict[str, CodeMachine] = {}


def register_machine(slug: str, machine: StateMachine, *, title: str = "") -> CodeMachine:
    """Let the engine run `machine` under `slug`; registering the same slug twice is an error
    unless it is the same machine again (a module imported twice)."""
    if not isinstance(slug, str) or not MACHINE_SLUG.match(slug):
        raise MachineError(f"machine slug {slug!r}: lowercase letters, digits and hyphens")
    if not isinstance(machine, StateMachine):
        raise MachineError(f"machine {slug!r}: register a StateMachine(...)")
    for action, where in _actions(machine.definition):
        if not isinstance(action, StepDefinition) and not (
            isinstance(action, Mapping) and isinstance(action.get("type"), str)
        ):
            raise MachineError(
                f"machine {slug!r}, {where}: an action is a @step or @action, or an action "
                f'node {{"type": ..., "config": ...}}; got {action!r}'
            )
    existing = _machines.get(slug)
    if existing is not None and existing.machine is not machine:
        raise MachineError(f"machine slug {slug!r} is already registered")
    found = CodeMachine(slug, title or slug, machine)
    _machines[slug] = found
    return found


def _actions(definition: MachineDefinition) -> list[tuple[Any, str]]:
    found = [
        (action, f"{state.id}.{hook}")
        for state in definition.states.values()
        for hook, actions in (("entry", state.entry), ("exit", state.exit))
        for action in actions
    ]
    return found + [(a, t.id) for t in definition.transitions for a in t.actions]


def get_machine(slug: str) -> CodeMachine | None:
    return _machines.get(slug)


def all_machines() -> list[CodeMachine]:
    return sorted(_machines.values(), key=lambda found: found.slug)
