"""A harness for testing state machines: a virtual clock, real steps, stubbed action nodes — no
database.

    tester = MachineTester(ORDER_MACHINE, start=datetime(2026, 3, 2, tzinfo=UTC))
    order = tester.create("order-1042", {"items": [{"sku": "A-1"}]})
    assert tester.send(order, "submit").status == "applied"
    tester.advance(timedelta(days=31))
    assert tester.send(order, "return").reason.startswith("cannot `return` from `completed`")

Events are applied through engine.core.machine_applying, as the engine applies them: exit
actions, transition actions, entry actions, the `always` moves after them, the same context
merge and the same refusals. Each event is applied at once, so events sent one after another
meet the instance as the engine's one-at-a-time queue would. Delayed transitions are timers
on the virtual clock, fired by advance() in the order they come due.

Actions: a step (`@step`, `@action`) is called for real with (context, event data), once
(retries are not simulated); an action node (`{"type": "action.http", ...}`) is answered by the
stub given for its type, `actions={"action.http": lambda config, scope: {...}}`, called with
the node's config as written and the scope its templates would read.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from engine.core.definitions import StepDefinition
from engine.core.errors import StepFailed, describe_exception
from engine.core.machine_applying import (
    START,
    TIMER_PREFIX,
    ActionCall,
    Applying,
    apply,
    timer_changes,
)
from engine.core.machine_code import StateMachine
from engine.core.machine_moves import allowed_events
from engine.core.machines import MachineDefinition, parse_machine
from engine.core.values import to_json_value

NodeStub = Callable[[Mapping[str, Any], Mapping[str, Any]], Any]
"""Answers an action node instead of running it: (its config, the scope) → its output."""


@dataclass(frozen=True)
class TestEvent:
    """One event as the instance's history records it."""

    __test__ = False  # not a pytest test class

    name: str
    status: str
    """applied, refused (no transition, or a guard said no) or failed (an action failed)."""
    from_state: str
    to_state: str
    reason: str
    guard: str
    transition: str
    actions: list[dict[str, Any]]
    """Each action run: {phase, state | transition, type, output | error}, in order."""
    at: datetime
    data: dict[str, Any]

    @property
    def applied(self) -> bool:
        return self.status == "applied"

    def action_types(self) -> list[str]:
        return [action["type"] for action in self.actions]


@dataclass(frozen=True)
class TestTimer:
    """A delayed transition counting down, as the engine keeps it in a MachineTimer row."""

    __test__ = False

    transition: str
    entered_at: datetime
    due_at: datetime


@dataclass
class TestInstance:
    """An instance of the tested machine: what the engine keeps in its row, timers and
    history."""

    __test__ = False

    id: int
    key: str
    state: str
    context: dict[str, Any]
    entered_at: datetime
    final: bool = False
    timers: list[TestTimer] = field(default_factory=list)
    history: list[TestEvent] = field(default_factory=list)

    def event_names(self) -> list[str]:
        return [event.name for event in self.history]


class UnstubbedAction(Exception):
    """An action node the tester was given no stub for."""


class MachineTester:
    """Runs one machine's instances in memory with a virtual clock; see the module docstring."""

    __test__ = False

    def __init__(
        self,
        machine: StateMachine | MachineDefinition | Mapping[str, Any],
        *,
        start: datetime | None = None,
        actions: Mapping[str, NodeStub] | None = None,
        slug: str = "machine",
    ) -> None:
        """`machine` is a code StateMachine, a definition, or a document as the canvas stores
        it (checked: a document with problems raises MachineError naming the first)."""
        if isinstance(machine, StateMachine):
            self.definition = machine.definition
        elif isinstance(machine, MachineDefinition):
            self.definition = machine
        else:
            self.definition = parse_machine(machine)
        self.started = start or datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
        if self.started.tzinfo is None:
            raise ValueError("start must be an aware datetime")
        self.clock = self.started
        self.slug = slug
        self.stubs = dict(actions or {})
        self.instances: dict[str, TestInstance] = {}

    # --- what a test does -----------------------------------------------------------------
    def create(self, key: str, context: Mapping[str, Any] | None = None) -> TestInstance:
        """A new instance keyed `key`, its context the machine's with `context` over it; its
        `@start` event (the initial state's entry actions) is applied at once."""
        if key in self.instances:
            raise ValueError(f"the machine has an instance {key!r} already")
        instance = TestInstance(
            id=len(self.instances) + 1,
            key=key,
            state=self.definition.start(),
            context=to_json_value({**self.definition.context, **(context or {})}),
            entered_at=self.clock,
        )
        self.instances[key] = instance
        self._apply(instance, START, {})
        return instance

    def send(
        self, instance: TestInstance, event: str, data: Mapping[str, Any] | None = None
    ) -> TestEvent:
        """Apply `event` now; the history entry says whether it was applied, refused (and why)
        or failed. The instance changes only when it was applied."""
        if event.startswith((START, TIMER_PREFIX)):
            raise ValueError(f"{event!r} is the engine's own event; use create() or advance()")
        return self._apply(instance, event, to_json_value(dict(data or {})))

    def advance(self, delta: timedelta) -> list[TestEvent]:
        """Move the clock `delta` on, firing each delayed transition that comes due meanwhile
        at its due time, earliest first; the events they applied (refused ones included)."""
        if delta < timedelta(0):
            raise ValueError("the clock only moves forward")
        until = self.clock + delta
        fired: list[TestEvent] = []
        while (due := self._next_timer(until)) is not None:
            instance, timer = due
            instance.timers.remove(timer)
            self.clock = max(self.clock, timer.due_at)
            data = {"entered_at": timer.entered_at.isoformat()}
            fired.append(self._apply(instance, TIMER_PREFIX + timer.transition, data))
        self.clock = until
        return fired

    def allowed(self, instance: TestInstance) -> list[dict[str, Any]]:
        """The events the instance's state allows, each with its guard's verdict now on no
        event data, as `GET /api/instances/{id}` gives them (`allowed_events`)."""
        if instance.final:
            return []
        verdicts = allowed_events(self.definition, instance.state, instance.context, self.clock)
        return [found.as_dict() for found in verdicts]

    # --- the machinery --------------------------------------------------------------------
    def _apply(self, instance: TestInstance, event: str, data: dict[str, Any]) -> TestEvent:
        applying = Applying(
            definition=self.definition,
            instance={"id": instance.id, "machine": self.slug, "key": instance.key},
            leaf=instance.state,
            context=dict(instance.context),
            data=data,
            entered_at=instance.entered_at,
            run=self._run_action,
        )
        outcome = to_json_value(apply(applying, event, self.clock))
        if outcome["status"] == "applied":
            self._commit(instance, outcome)
        recorded = TestEvent(
            name=event,
            status=outcome["status"],
            from_state=outcome["from"],
            to_state=outcome.get("to", ""),
            reason=outcome.get("reason", ""),
            guard=outcome.get("guard", ""),
            transition=outcome["transition"],
            actions=outcome["actions"],
            at=self.clock,
            data=data,
        )
        instance.history.append(recorded)
        return recorded

    def _commit(self, instance: TestInstance, outcome: dict[str, Any]) -> None:
        """What engine.machines.committing writes for an applied event."""
        instance.context = outcome["context"]
        if outcome["moves"]:
            instance.state = outcome["to"]
            instance.entered_at = self.clock
            dropped, started = timer_changes(self.definition, outcome["moves"])
            instance.timers = [t for t in instance.timers if t.transition not in dropped]
            instance.timers += [
                TestTimer(t.id, self.clock, self.clock + timedelta(seconds=t.after_seconds or 0))
                for t in started
            ]
        if self.definition.is_final(instance.state):
            instance.final = True
            instance.timers = []

    def _next_timer(self, until: datetime) -> tuple[TestInstance, TestTimer] | None:
        """The timer due first by `until` (of timers due together, the one set first)."""
        due = [(i, t) for i in self.instances.values() for t in i.timers if t.due_at <= until]
        return min(due, key=lambda found: found[1].due_at, default=None)

    def _run_action(self, call: ActionCall) -> Any:
        """Run a step for real, or answer an action node by its stub; a failure is a
        StepFailed, as the engine's step gives up after its last attempt."""
        action = call.action
        try:
            if isinstance(action, StepDefinition):
                output = action.fn(*call.code_args)
            elif isinstance(action, Mapping) and isinstance(action.get("type"), str):
                output = self._stub(action["type"])(
                    dict(action.get("config") or {}), {**call.scope, "now": self.clock}
                )
            else:
                raise UnstubbedAction(f"{action!r} is neither a step nor an action node")
            return to_json_value(output)
        except Exception as error:
            raise StepFailed(call.name, describe_exception(error)) from error

    def _stub(self, node_type: str) -> NodeStub:
        stub = self.stubs.get(node_type)
        if stub is None:
            raise UnstubbedAction(
                f"the action node {node_type} is not run by the tester: give its answer as "
                f"MachineTester(..., actions={{{node_type!r}: lambda config, scope: ...}})"
            )
        return stub
