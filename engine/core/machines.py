"""State machines: their definition and its structural problems.

Plain Python, no Django: the engine stores, runs and shows machines (engine.machines); this
module only knows the shape (engine.core.machine_moves knows what an event does to it,
engine.core.machine_code is the Python API). A definition is states (one initial, any
number final, nested through `parent`: compound states enter their own `initial` child) and
transitions, each started by an event (`event`), by time spent in its source (`after`) or by
nothing at all (`always`, checked after every transition), with a CEL guard over `context`,
`event` and `now` and actions to run. The document form is what the canvas draws and the API stores:

    {"initial": "draft", "context": {...},
     "states": [{"id", "label", "parent", "initial", "final", "entry": [...], "exit": [...]}],
     "transitions": [{"id", "source", "target", "event" | "after" | "always", "guard",
                      "actions": [...]}],
     "listen": [{"type": "Order.paid", "event": "pay", "key": "orderId"}]}

`listen` (optional) maps events sent to the engine (POST /api/events) to machine events: an
event of `type` becomes `event` for the instance whose key is the payload's `key` field.

An action is `{"type": <node type>, "config": {...}}` of the graph node library, which the
engine checks and runs; here it is opaque. Parallel regions are not supported.
"""

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from engine.core.durations import MAX_DURATION_SECONDS, TOO_LONG, parse_duration
from engine.core.expressions import ExpressionError, compile_expression
from engine.core.triggers import event_type_problem

STATE_ID = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]{0,63}$")
EVENT_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,99}$")
TASK_EVENT_PREFIX = "task."
"""`task.approved`, `task.rejected`, `task.changes`: the decision on a task a state opened on
entry. Only the engine sends them; nobody can post one (engine.machines.instances)."""
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
class Listen:
    """Events of `type` sent to the engine become `event` for the instance keyed by the
    payload's `key` field."""

    type: str
    event: str
    key: str


@dataclass(frozen=True)
class MachineDefinition:
    initial: str
    states: Mapping[str, StateDef]
    transitions: tuple[TransitionDef, ...]
    context: Mapping[str, Any] = field(default_factory=dict)
    listen: tuple[Listen, ...] = ()

    def transition(self, transition_id: str) -> TransitionDef | None:
        return next((t for t in self.transitions if t.id == transition_id), None)

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


def machine_problems(document: Any) -> list[Problem]:
    """Every structural problem of a machine document; an empty list means it can be used."""
    if not isinstance(document, Mapping):
        return [Problem(None, None, "a machine is a JSON object")]
    problems: list[Problem] = []
    states = _state_rows(document, problems)
    _transition_rows(document, states, problems)
    if "context" in document and not isinstance(document["context"], Mapping):
        problems.append(Problem(None, "context", "must be an object"))
    problems += listen_problems(document.get("listen", []))
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
    listen = tuple(
        Listen(row["type"], row["event"], row["key"]) for row in document.get("listen") or []
    )
    return MachineDefinition(
        document["initial"], states, transitions, document.get("context") or {}, listen
    )


def listen_problems(rows: Any) -> list[Problem]:
    if not isinstance(rows, list):
        return [Problem(None, "listen", "must be a list of {type, event, key}")]
    problems: list[Problem] = []
    for index, row in enumerate(rows):
        where = f"listen[{index}]"
        if not isinstance(row, Mapping):
            problems.append(Problem(None, where, "must be an object {type, event, key}"))
            continue
        type_problem = event_type_problem(row.get("type"))
        if type_problem is not None:
            problems.append(Problem(None, f"{where}.type", type_problem))
        event = row.get("event")
        if not isinstance(event, str) or not EVENT_NAME.match(event):
            problems.append(Problem(None, f"{where}.event", "the machine event it becomes"))
        elif event.startswith(TASK_EVENT_PREFIX):
            problems.append(
                Problem(
                    None,
                    f"{where}.event",
                    f"{TASK_EVENT_PREFIX}* events come only from people's decisions on tasks",
                )
            )
        key = row.get("key")
        if not isinstance(key, str) or not key:
            problems.append(Problem(None, f"{where}.key", "the payload field holding the key"))
    return problems


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
            seconds = parse_duration(row["after"])
            if seconds <= 0:
                problems.append(Problem(transition_id, "after", "the delay must be more than 0"))
            elif not seconds <= MAX_DURATION_SECONDS:
                problems.append(Problem(transition_id, "after", f"the delay {TOO_LONG}"))
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


def built_problems(definition: MachineDefinition) -> list[Problem]:
    """The checks of machine_problems that apply to a definition built in Python (the
    document's own shape is checked before it becomes a definition)."""
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
