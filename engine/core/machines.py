"""State machines: their definition, its structural problems, and what an event does to it.

Plain Python, no Django: the engine stores, runs and shows machines (engine.machines); this
module only knows the shape. A definition is states (one initial, any number final, nested
through `parent`: compound states enter their own `initial` child) and transitions, each
started by an event (`event`), by time spent in its source (`after`) or by nothing at all
(`always`, checked after every transition), with a CEL guard over `context`, `event` and
`now` and actions to run. The document form is what the canvas draws and the API stores:

    {"initial": "draft", "context": {...},
     "states": [{"id", "label", "parent", "initial", "final", "entry": [...], "exit": [...]}],
     "transitions": [{"id", "source", "target", "event" | "after" | "always", "guard",
                      "actions": [...]}]}

An action is `{"type": <node type>, "config": {...}}` of the graph node library, which the
engine checks and runs; here it is opaque. Parallel regions are not supported.
"""

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from engine.core.expressions import ExpressionError, compile_expression, evaluate_condition
from engine.core.values import JSON

STATE_ID = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]{0,63}$")
EVENT_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,99}$")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?\s*$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, None: 1}
GUARD_NAMES = frozenset({"context", "event", "now"})
ALWAYS_LIMIT = 20
"""Eventless transitions taken in a row before the machine stops: a guard that never turns
false would otherwise loop for ever."""

Guard = str | Callable[[Mapping[str, Any], Mapping[str, Any]], bool]
"""A CEL condition over context, event and now, or (code machines) a function of
(context, event data) that must be deterministic."""


class MachineError(ValueError):
    """A definition that cannot be used: the message names the state or transition."""


@dataclass(frozen=True)
class Problem:
    """What is wrong in a definition, where: `node` is a state or transition id (or None for
    the machine), `field` the field in it."""

    node: str | None
    field: str | None
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"node": self.node, "field": self.field, "message": self.message}


@dataclass(frozen=True)
class TransitionDef:
    id: str
    source: str
    target: str
    event: str | None = None
    after_seconds: float | None = None
    always: bool = False
    guard: Guard | None = None
    actions: tuple[Any, ...] = ()

    @property
    def trigger(self) -> str:
        if self.event is not None:
            return self.event
        return f"after {self.after_seconds:g}s" if self.after_seconds is not None else "always"

    def guard_label(self) -> str:
        if self.guard is None:
            return ""
        return self.guard if isinstance(self.guard, str) else getattr(self.guard, "__name__", "")


@dataclass(frozen=True)
class StateDef:
    id: str
    label: str = ""
    parent: str | None = None
    initial: str | None = None
    final: bool = False
    entry: tuple[Any, ...] = ()
    exit: tuple[Any, ...] = ()


@dataclass(frozen=True)
class MachineDefinition:
    initial: str
    states: Mapping[str, StateDef]
    transitions: tuple[TransitionDef, ...]
    context: Mapping[str, Any] = field(default_factory=dict)

    def path(self, state: str) -> list[str]:
        """The state and its ancestors, innermost first."""
        chain: list[str] = []
        current: str | None = state
        while current is not None and current not in chain:
            chain.append(current)
            current = self.states[current].parent if current in self.states else None
        return chain

    def children(self, state: str | None) -> list[str]:
        return [s.id for s in self.states.values() if s.parent == state]

    def settle(self, state: str) -> str:
        """The leaf a state stands for: a compound state enters its initial child, down."""
        seen = {state}
        while self.children(state):
            child = self.states[state].initial
            if child is None or child in seen:
                raise MachineError(f"state {state!r} has children but no initial child")
            seen.add(child)
            state = child
        return state

    def start(self) -> str:
        return self.settle(self.initial)

    def outgoing(self, leaf: str) -> list[TransitionDef]:
        """Transitions that apply in `leaf`: its own first, then its ancestors'."""
        order = {state: depth for depth, state in enumerate(self.path(leaf))}
        found = [t for t in self.transitions if t.source in order]
        return sorted(found, key=lambda t: order[t.source])  # stable: document order kept

    def is_final(self, leaf: str) -> bool:
        return self.states[leaf].final


# --- the document form ------------------------------------------------------------------------
def parse_duration(value: Any) -> float:
    """Seconds from a number or a text duration such as `90s`, `15m`, `48h`, `30d`."""
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
        return float(value)
    match = _DURATION.match(value) if isinstance(value, str) else None
    if match is None:
        raise ValueError(f"{value!r} is not a duration (seconds, or 90s, 15m, 48h, 30d)")
    return float(match.group(1)) * _UNIT_SECONDS[match.group(2)]


def machine_problems(document: Any) -> list[Problem]:
    """Every structural problem of a machine document; an empty list means it can be used."""
    if not isinstance(document, Mapping):
        return [Problem(None, None, "a machine is a JSON object")]
    problems: list[Problem] = []
    states = _state_rows(document, problems)
    _transition_rows(document, states, problems)
    if "context" in document and not isinstance(document["context"], Mapping):
        problems.append(Problem(None, "context", "must be an object"))
    initial = document.get("initial")
    if not isinstance(initial, str) or not initial:
        problems.append(Problem(None, "initial", "name the state the machine starts in"))
    elif initial not in states:
        problems.append(Problem(None, "initial", f"there is no state {initial!r}"))
    elif states[initial].get("parent"):
        problems.append(Problem(None, "initial", "the machine starts in a top-level state"))
    if problems:
        return problems
    definition = parse_machine(document, checked=True)
    problems += _hierarchy_problems(definition)
    if problems:
        return problems
    problems += _reachability_problems(definition)
    problems += _conflict_problems(definition)
    return problems


def parse_machine(document: Mapping[str, Any], *, checked: bool = False) -> MachineDefinition:
    """The definition of a document; raises MachineError naming the first problem unless the
    caller already checked it."""
    if not checked:
        problems = machine_problems(document)
        if problems:
            first = problems[0]
            where = ".".join(part for part in (first.node, first.field) if part)
            raise MachineError(f"{where}: {first.message}" if where else first.message)
    states = {
        row["id"]: StateDef(
            id=row["id"],
            label=str(row.get("label") or ""),
            parent=row.get("parent") or None,
            initial=row.get("initial") or None,
            final=bool(row.get("final")),
            entry=tuple(row.get("entry") or ()),
            exit=tuple(row.get("exit") or ()),
        )
        for row in document["states"]
    }
    transitions = tuple(
        TransitionDef(
            id=row["id"],
            source=row["source"],
            target=row["target"],
            event=row.get("event") or None,
            after_seconds=parse_duration(row["after"]) if row.get("after") is not None else None,
            always=bool(row.get("always")),
            guard=row.get("guard") or None,
            actions=tuple(row.get("actions") or ()),
        )
        for row in document.get("transitions") or []
    )
    return MachineDefinition(
        document["initial"], states, transitions, document.get("context") or {}
    )


def _state_rows(
    document: Mapping[str, Any], problems: list[Problem]
) -> dict[str, Mapping[str, Any]]:
    rows = document.get("states")
    if not isinstance(rows, list) or not rows:
        problems.append(Problem(None, "states", "a machine needs at least one state"))
        return {}
    states: dict[str, Mapping[str, Any]] = {}
    for index, row in enumerate(rows):
        if not isinstance(row, Mapping):
            problems.append(Problem(None, f"states[{index}]", "a state is an object"))
            continue
        state_id = row.get("id")
        if not isinstance(state_id, str) or not STATE_ID.match(state_id):
            problems.append(
                Problem(None, f"states[{index}].id", "a state id is a name: letters, digits, _ -")
            )
            continue
        if state_id in states:
            problems.append(Problem(state_id, "id", f"two states are called {state_id!r}"))
            continue
        states[state_id] = row
        for hook in ("entry", "exit"):
            if not isinstance(row.get(hook, []), list):
                problems.append(Problem(state_id, hook, "must be a list of actions"))
    for state_id, row in states.items():
        for name in ("parent", "initial"):
            value = row.get(name)
            if value not in (None, "") and value not in states:
                problems.append(Problem(state_id, name, f"there is no state {value!r}"))
        if row.get("final") and row.get("initial"):
            problems.append(Problem(state_id, "final", "a final state has no child states"))
    return states


def _transition_rows(
    document: Mapping[str, Any], states: Mapping[str, Any], problems: list[Problem]
) -> list[Mapping[str, Any]]:
    rows = document.get("transitions", [])
    if not isinstance(rows, list):
        problems.append(Problem(None, "transitions", "must be a list"))
        return []
    seen: set[str] = set()
    for index, row in enumerate(rows):
        if not isinstance(row, Mapping):
            problems.append(Problem(None, f"transitions[{index}]", "a transition is an object"))
            continue
        transition_id = row.get("id")
        if not isinstance(transition_id, str) or not transition_id:
            problems.append(Problem(None, f"transitions[{index}].id", "give the transition an id"))
            continue
        if transition_id in seen or transition_id in states:
            problems.append(Problem(transition_id, "id", f"the id {transition_id!r} is taken"))
        seen.add(transition_id)
        problems += _transition_problems(transition_id, row, states)
    return rows


def _transition_problems(
    transition_id: str, row: Mapping[str, Any], states: Mapping[str, Any]
) -> list[Problem]:
    problems: list[Problem] = []
    for name in ("source", "target"):
        value = row.get(name)
        if not isinstance(value, str) or value not in states:
            problems.append(Problem(transition_id, name, f"there is no state {value!r}"))
    source_id = row.get("source")
    source = states.get(source_id) if isinstance(source_id, str) else None
    if source is not None and source.get("final"):
        problems.append(Problem(transition_id, "source", "nothing leaves a final state"))
    triggers = [
        name for name in ("event", "after", "always") if row.get(name) not in (None, "", False)
    ]
    if len(triggers) != 1:
        problems.append(
            Problem(
                transition_id, "event", "give exactly one of: an event, after (a delay), always"
            )
        )
    event = row.get("event")
    if event not in (None, "") and (not isinstance(event, str) or not EVENT_NAME.match(event)):
        problems.append(Problem(transition_id, "event", "an event name: letters, digits, _ . -"))
    if row.get("after") not in (None, ""):
        try:
            if parse_duration(row["after"]) <= 0:
                problems.append(Problem(transition_id, "after", "the delay must be more than 0"))
        except ValueError as error:
            problems.append(Problem(transition_id, "after", str(error)))
    guard = row.get("guard")
    if guard not in (None, ""):
        problems += _guard_problems(transition_id, guard)
    if not isinstance(row.get("actions", []), list):
        problems.append(Problem(transition_id, "actions", "must be a list of actions"))
    return problems


def _guard_problems(transition_id: str, guard: Any) -> list[Problem]:
    try:
        expression = compile_expression(guard, node=transition_id, field="guard")
    except ExpressionError as error:
        return [Problem(transition_id, "guard", error.message)]
    unknown = sorted(expression.variables - GUARD_NAMES)
    if unknown:
        names = ", ".join(unknown)
        return [Problem(transition_id, "guard", f"{names}: a guard reads context, event and now")]
    return []


def _hierarchy_problems(definition: MachineDefinition) -> list[Problem]:
    problems: list[Problem] = []
    for state in definition.states.values():
        if len(definition.path(state.id)) != len(set(definition.path(state.id))) or (
            state.parent and state.id in definition.path(state.parent)
        ):
            problems.append(Problem(state.id, "parent", "a state cannot be inside itself"))
            continue
        children = definition.children(state.id)
        if children and state.initial not in children:
            problems.append(
                Problem(state.id, "initial", "a state with child states names one of them to enter")
            )
        if not children and state.initial:
            problems.append(Problem(state.id, "initial", "only a state with child states has one"))
    return problems


def _reachability_problems(definition: MachineDefinition) -> list[Problem]:
    reached: set[str] = set()
    frontier = [definition.initial]
    while frontier:
        state = frontier.pop()
        if state in reached:
            continue
        reached.add(state)
        frontier += definition.path(state)[1:]
        child = definition.states[state].initial
        if child:
            frontier.append(child)
        frontier += [t.target for t in definition.transitions if t.source in definition.path(state)]
    problems: list[Problem] = []
    for row in definition.states.values():
        if row.id not in reached:
            problems.append(Problem(row.id, None, "no transition leads to this state"))
        elif not definition.children(row.id) and not row.final and not definition.outgoing(row.id):
            problems.append(
                Problem(row.id, "final", "no transition leaves this state: mark it final")
            )
    return problems


def _conflict_problems(definition: MachineDefinition) -> list[Problem]:
    """Two transitions from one state on one trigger whose guards can both be true, where that
    can be decided: both without a guard, or both with the same guard."""
    problems: list[Problem] = []
    seen: dict[tuple[str, str, str], str] = {}
    for transition in definition.transitions:
        key = (transition.source, transition.trigger, transition.guard_label())
        if key in seen:
            problems.append(
                Problem(
                    transition.id,
                    "guard",
                    f"{seen[key]!r} already leaves {transition.source!r} on {transition.trigger}"
                    + (" with the same guard" if transition.guard else " without a guard"),
                )
            )
        else:
            seen[key] = transition.id
    return problems


# --- what an event does ------------------------------------------------------------------------
@dataclass(frozen=True)
class Verdict:
    """Whether one transition may be taken now, and if not, why."""

    transition: TransitionDef
    allowed: bool
    reason: str = ""


@dataclass(frozen=True)
class Step:
    """One move: the actions to run in order (exit, transition, entry) and where it ends."""

    transition: TransitionDef
    source: str
    target: str
    exits: tuple[tuple[str, Any], ...]
    actions: tuple[Any, ...]
    entries: tuple[tuple[str, Any], ...]


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


# --- the Python API ------------------------------------------------------------------------------
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
    steps or registered actions, each a journaled step when the engine runs the machine.
    """

    def __init__(
        self,
        *,
        initial: str,
        states: Mapping[str, State],
        context: Mapping[str, JSON] | None = None,
    ) -> None:
        self.initial = initial
        self.states = dict(states)
        self.context = dict(context or {})
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
        definition = MachineDefinition(self.initial, states, tuple(transitions), self.context)
        problems = _definition_problems(definition)
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


def _definition_problems(definition: MachineDefinition) -> list[Problem]:
    """The checks of machine_problems that apply to a definition built in Python."""
    problems: list[Problem] = []
    if definition.initial not in definition.states:
        return [Problem(None, "initial", f"there is no state {definition.initial!r}")]
    for transition in definition.transitions:
        if transition.target not in definition.states:
            problems.append(
                Problem(transition.id, "target", f"there is no state {transition.target!r}")
            )
        if isinstance(transition.guard, str):
            problems += _guard_problems(transition.id, transition.guard)
    if problems:
        return problems
    problems += _hierarchy_problems(definition)
    return problems or _reachability_problems(definition) + _conflict_problems(definition)


def state_names(definition: MachineDefinition) -> Iterable[str]:
    return definition.states.keys()
