"""Running a published graph on the durable engine: every node is a journaled step.

The interpreter is ordinary workflow code, so it is replayed like any code workflow: it must
walk the graph in the same order every time, and it does, because the order depends only on
the graph and on journaled step results. Tokens move through the graph in waves: the nodes
ready at the same moment run as one parallel group (separate worker tasks), a single ready node
runs inline. Loops run their body once per item in frames of their own (`send[3]` is node
`send` for item 3); joins collect the branches that reach them. Delays, event waits,
sub-workflows and human tasks suspend the run durably after their node's step has evaluated
its config.
"""

import contextlib
import contextvars
import threading
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

from engine.core.api import (
    Pending,
    first_settled,
    outcome,
    parallel,
    pending_child,
    pending_sleep_until,
    pending_wait_for_any,
    start_child,
)
from engine.core.calendar import business_calendar
from engine.core.context import current_context, current_step
from engine.core.definitions import (
    StepDefinition,
    WorkflowDefinition,
    get_action,
    register_step_resolver,
)
from engine.core.errors import (
    ChildWorkflowFailed,
    NonRetryableError,
    RunCancelled,
    StepFailed,
    StepTimeout,
    Suspend,
    WaitTimeout,
    WorkflowError,
    describe_exception,
)
from engine.core.expressions import ExpressionError
from engine.core.human import (
    escalate_task,
    expire_task,
    phase_wait_name,
    remind_task,
    task_phases,
    withdraw_task,
)
from engine.core.journal import Position
from engine.core.retry import NO_RETRY, Retry
from engine.core.saga import Saga
from engine.graph.nodes.base import ERROR, NORMAL, NodeContext, NodeResult, NodeType, get_node_type
from engine.graph.nodes.flow import parse_duration

Frame = tuple[tuple[str, int], ...]
"""Where a token is: () at the top, then (loop node, item index) per enclosing loop."""

DRIVEN = frozenset(
    {"flow.delay", "flow.wait_event", "flow.subworkflow", "human.approval", "human.review"}
)
HUMAN = frozenset({"human.approval", "human.review"})
TRIGGER_NODES = {
    "event": "trigger.event",
    "debounce": "trigger.event",
    "schedule": "trigger.schedule",
    "webhook": "trigger.webhook",
}
"""Which trigger node a run starts at, by what started it (anything else: the manual one)."""


class GraphError(WorkflowError):
    """The graph cannot go on (e.g. a join that can never be satisfied)."""


class ExpressionFailed(NonRetryableError):
    """A node's expression or template failed on the data it was given."""


@dataclass(frozen=True)
class CompiledNode:
    id: str
    type: NodeType
    config: Mapping[str, Any]
    order: int
    edges: Mapping[str, tuple[str, ...]]
    incoming: int
    retry: Retry
    timeout: float | None
    compensation: str | None

    @property
    def has_error_edge(self) -> bool:
        return bool(self.edges.get(ERROR))


def _retry_policy(node_type: NodeType, config: Mapping[str, Any]) -> Retry:
    policy = config.get("retry") if node_type.error_handling else None
    if isinstance(policy, Mapping):
        return Retry(
            max_attempts=int(policy.get("max_attempts", 3)),
            backoff=policy.get("backoff", "exponential"),
            initial_delay=float(policy.get("initial_delay", 1.0)),
            max_delay=float(policy.get("max_delay", 300.0)),
            jitter=float(policy.get("jitter", 0.1)),
        )
    if node_type.type == "action.python":
        action = get_action(str(config.get("action", "")))
        if action is not None:
            return action.retry
    return NO_RETRY


class Program:
    """A graph compiled for running: nodes with their edges by handle, one step per node."""

    def __init__(
        self,
        slug: str,
        version: str,
        title: str,
        document: Mapping[str, Any],
        *,
        compensate_on_cancel: bool = True,
    ) -> None:
        self.slug = slug
        self.version = version
        self.title = title
        self.compensate_on_cancel = compensate_on_cancel
        edges: dict[str, dict[str, list[str]]] = {}
        incoming: dict[str, int] = {}
        for edge in document.get("edges", []):
            handle = edge.get("handle") or NORMAL
            edges.setdefault(edge["source"], {}).setdefault(handle, []).append(edge["target"])
            incoming[edge["target"]] = incoming.get(edge["target"], 0) + 1
        self.nodes: dict[str, CompiledNode] = {}
        for order, node in enumerate(document.get("nodes", [])):
            node_type = get_node_type(node["type"])
            if node_type is None:
                raise GraphError(f"node {node['id']!r}: unknown node type {node['type']!r}")
            config = node.get("config") or {}
            timeout = config.get("timeout") if node_type.error_handling else None
            self.nodes[node["id"]] = CompiledNode(
                id=node["id"],
                type=node_type,
                config=config,
                order=order,
                edges={
                    handle: tuple(targets) for handle, targets in edges.get(node["id"], {}).items()
                },
                incoming=incoming.get(node["id"], 0),
                retry=_retry_policy(node_type, config),
                timeout=float(timeout) if timeout is not None else None,
                compensation=config.get("compensation") if node_type.error_handling else None,
            )
        self.triggers = [node.id for node in self.nodes.values() if node.type.is_trigger]
        self._steps: dict[str, StepDefinition] = {}
        self._lock = threading.Lock()
        _compiled[(slug, version)] = self

    @cached_property
    def input_schema(self) -> dict[str, Any] | None:
        for node_id in self.triggers:
            node = self.nodes[node_id]
            if node.type.type == "trigger.manual":
                schema = node.config.get("input_schema")
                return dict(schema) if isinstance(schema, Mapping) else None
        return None

    @cached_property
    def definition(self) -> WorkflowDefinition:
        return WorkflowDefinition(
            slug=self.slug,
            fn=lambda input: Interpreter(self, input).run(),
            title=self.title,
            description="",
            version=self.version,
            input_schema=self.input_schema,
            # A graph without compensation nodes has nothing to undo: cancel ends it at once.
            compensate_on_cancel=self.compensate_on_cancel
            and any(node.compensation for node in self.nodes.values()),
        )

    @cached_property
    def feeders(self) -> dict[str, frozenset[str]]:
        """For each join of `any` or `n`: the nodes from which every path leads into it and
        nowhere else. Once such a join fired, work on those nodes can change nothing, so their
        branches are abandoned. Loops never count (their items run in frames of their own).
        Worked out once per compiled version, not on every replay."""
        successors = {
            node_id: {target for targets in node.edges.values() for target in targets}
            for node_id, node in self.nodes.items()
        }
        found: dict[str, frozenset[str]] = {}
        for join_id, join in self.nodes.items():
            if join.type.type != "logic.join" or join.config.get("mode", "all") == "all":
                continue
            feeders: set[str] = set()
            grew = True
            while grew:
                grew = False
                for node_id, targets in successors.items():
                    if node_id in feeders or node_id == join_id or not targets:
                        continue
                    if self.nodes[node_id].type.type == "logic.loop":
                        continue
                    if all(target == join_id or target in feeders for target in targets):
                        feeders.add(node_id)
                        grew = True
            found[join_id] = frozenset(feeders)
        return found

    def step_key(self, node_id: str) -> str:
        return f"graph:{self.slug}:{self.version}:{node_id}"

    def step_for(self, node_id: str) -> StepDefinition:
        """The step that runs this node; parallel branches find it again by its key."""
        with self._lock:
            found = self._steps.get(node_id)
            if found is None:
                node = self.nodes[node_id]
                found = StepDefinition(
                    fn=lambda scope: run_node(node, scope),
                    key=self.step_key(node_id),
                    name=node_id,
                    retry=node.retry,
                )
                self._steps[node_id] = found
            return found


# Programs compiled in this process, so a parallel branch finds its node's step again by key.
_compiled: "weakref.WeakValueDictionary[tuple[str, str], Program]" = weakref.WeakValueDictionary()


def _compiled_step(key: str) -> StepDefinition | None:
    parsed = parse_step_key(key)
    program = _compiled.get(parsed[:2]) if parsed else None
    if parsed is None or program is None or parsed[2] not in program.nodes:
        return None
    return program.step_for(parsed[2])


register_step_resolver(_compiled_step)


def parse_step_key(key: str) -> tuple[str, str, str] | None:
    """(slug, version, node id) from a graph step key, or None for other steps."""
    parts = key.split(":")
    if len(parts) != 4 or parts[0] != "graph":
        return None
    return parts[1], parts[2], parts[3]


def run_node(node: CompiledNode, scope: Mapping[str, Any]) -> dict[str, Any]:
    """One attempt of a node, inside its step. With an error edge, the last failure is an output."""
    info = current_step()
    context = NodeContext(
        node_id=node.id,
        config=node.config,
        scope={**scope, "now": datetime.now(UTC)},
        run_id=info.run_id if info else 0,
        idempotency_key=info.idempotency_key if info else "",
        step_name=info.name if info else node.id,
    )
    execute = node.type.execute
    try:
        try:
            result = _with_timeout(execute, context, node.timeout) if execute else NodeResult()
        except ExpressionError as broken:
            # The same data would break the expression again: trying again cannot help.
            raise ExpressionFailed(str(broken)) from broken
    except Exception as exc:
        attempt = info.attempt if info else 1
        if node.has_error_edge and not node.retry.should_retry(exc, attempt):
            return NodeResult(output=describe_exception(exc), handle=ERROR).as_json()
        raise
    return result.as_json()


def _with_timeout(
    execute: Callable[[NodeContext], NodeResult], context: NodeContext, timeout: float | None
) -> NodeResult:
    if timeout is None:
        return execute(context)
    outcome: dict[str, Any] = {}

    def attempt() -> None:
        try:
            outcome["result"] = execute(context)
        except BaseException as exc:  # handed back to the waiting thread
            outcome["error"] = exc
        finally:
            _close_thread_connections()

    # Python cannot stop a thread: a timed-out attempt is abandoned, as in engine steps.
    worker = threading.Thread(target=contextvars.copy_context().run, args=(attempt,), daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise StepTimeout(f"node {context.node_id!r} did not finish within {timeout:g}s")
    if "error" in outcome:
        raise outcome["error"]
    result: NodeResult = outcome["result"]
    return result


def _close_thread_connections() -> None:
    """A node run in its own thread (for its timeout) must not leave a database connection open."""
    try:
        from django.db import connections
    except ImportError:  # pragma: no cover - the interpreter runs without Django in unit tests
        return
    connections.close_all()


@dataclass
class Token:
    node: str
    frame: Frame
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Waiting:
    """A branch waiting for a delay, an event, a child or a decision; `then` says what next."""

    token: Token
    pending: Pending
    then: str
    state: dict[str, Any] = field(default_factory=dict)


def _task_phases(config: Mapping[str, Any]) -> list[tuple[float | None, str]]:
    """Each phase waits for the decision; its timeout reminds, escalates or expires the task."""
    timeout = parse_duration(config["timeout"]) if "timeout" in config else None
    reminder = parse_duration(config["reminder"]) if "reminder" in config else None
    escalation = config.get("escalation_timeout", config.get("timeout"))
    return task_phases(
        timeout,
        reminder,
        "escalate_to" in config,
        parse_duration(escalation) if escalation is not None else None,
    )


@dataclass
class LoopState:
    node: str
    frame: Frame
    items: list[Any]
    concurrency: int
    delay: float
    next_index: int = 0
    running: list[int] = field(default_factory=list)
    results: dict[int, Any] = field(default_factory=dict)


@dataclass
class JoinState:
    node: str
    frame: Frame
    arrivals: dict[str, Any] = field(default_factory=dict)
    fired: bool = False


_NOTHING = object()


def step_name(node_id: str, frame: Frame) -> str:
    return node_id + "".join(f"[{index}]" for _, index in frame)


class Interpreter:
    def __init__(self, program: Program, input: Any) -> None:
        self.program = program
        self.input = input
        self.vars: dict[str, Any] = {}
        self.outputs: dict[Frame, dict[str, dict[str, Any]]] = {(): {}}
        self.queue: list[Token] = []
        self.loops: dict[tuple[Frame, str], LoopState] = {}
        self.joins: dict[tuple[Frame, str], JoinState] = {}
        # Compensation nodes of the nodes that completed, each linked to the step it undoes.
        self.saga = Saga()
        self.positions: dict[tuple[Frame, str], Position] = {}
        self.result: Any = _NOTHING
        self.last_output: Any = None
        # Branches waiting side by side: each registered its wait and the run goes on.
        self.waiting: list[Waiting] = []
        # (frame, node) of branches a join of `any` or `n` no longer needs once it fired.
        self.abandoned: set[tuple[Frame, str]] = set()

    # --- the main loop --------------------------------------------------------------------
    def run(self) -> Any:
        if not self.program.triggers:
            raise GraphError("the graph has no trigger")
        self.queue.append(Token(self._start_node(), ()))
        try:
            while self.result is _NOTHING:
                if self.abandoned:
                    self.queue = [t for t in self.queue if (t.frame, t.node) not in self.abandoned]
                if self.queue:
                    wave, self.queue = self.queue, []
                    for token, result in zip(wave, self._run_steps(wave), strict=True):
                        if self.result is not _NOTHING:
                            break
                        self._after(token, result)
                elif self.waiting:
                    self._resume_first_settled()
                elif not self._settle():
                    break
                self._finish_iterations()
        except (WorkflowError, RunCancelled):
            self._compensate()
            raise
        return self.last_output if self.result is _NOTHING else self.result

    def node(self, node_id: str) -> CompiledNode:
        return self.program.nodes[node_id]

    def _start_node(self) -> str:
        """The trigger node matching what started the run (an event starts at trigger.event)."""
        context = current_context()
        # The Django backend knows its run; the in-memory test harness starts runs by hand.
        run = getattr(context.backend, "run", None) if context else None
        started_by = str(getattr(run, "trigger", "manual"))
        wanted = TRIGGER_NODES.get(started_by, "trigger.manual")
        for kind in (wanted, "trigger.manual"):
            found = [t for t in self.program.triggers if self.node(t).type.type == kind]
            if found:
                return found[0]
        return self.program.triggers[0]

    def scope(self, token: Token) -> dict[str, Any]:
        nodes: dict[str, dict[str, Any]] = {}
        for depth in range(len(token.frame) + 1):
            nodes.update(self.outputs.get(token.frame[:depth], {}))
        scope: dict[str, Any] = {"input": self.input, "vars": dict(self.vars), "nodes": nodes}
        if token.frame:
            loop_node, index = token.frame[-1]
            scope["item"] = self.loops[(token.frame[:-1], loop_node)].items[index]
            scope["index"] = index
        scope.update(token.extra)
        return scope

    def _filter_scope(self, token: Token) -> dict[str, Any]:
        """What a wait's filter reads besides the event: the scope as the wait begins."""
        scope = self.scope(token)
        del scope["input"]  # the matcher has the run's input already
        return scope

    def _run_steps(self, wave: list[Token]) -> list[dict[str, Any]]:
        steps = [
            self.program.step_for(token.node).named(step_name(token.node, token.frame))
            for token in wave
        ]
        context = current_context()
        if len(wave) == 1:
            result = steps[0](self.scope(wave[0]))
            if context is not None and context.last_position is not None:
                self.positions[(wave[0].frame, wave[0].node)] = context.last_position
            return [result]
        calls = [step.call(self.scope(token)) for step, token in zip(steps, wave, strict=True)]
        results: list[dict[str, Any]] = parallel(calls, name="parallel")
        group = context.last_position if context is not None else None
        if group is not None:
            for index, token in enumerate(wave):
                self.positions[(token.frame, token.node)] = Position(group.seq, index + 1)
        return results

    # --- after a node's step ---------------------------------------------------------------
    def _after(self, token: Token, result: Mapping[str, Any]) -> None:
        node = self.node(token.node)
        output, handle = result.get("output"), result.get("handle") or NORMAL
        if (token.frame, token.node) in self.abandoned:
            # It ran in the same wave as the branch that fired its join: it goes no further.
            if handle != ERROR and node.type.type in HUMAN and isinstance(output, Mapping):
                name = step_name(token.node, token.frame)
                withdraw_task.named(f"{name}:withdraw")(output["task"])
            return
        self.vars.update(result.get("vars") or {})
        if handle != ERROR and node.type.type in DRIVEN:
            self._begin_waiting(node, token, output)
        else:
            self._complete(token, output, handle)

    def _complete(self, token: Token, output: Any, handle: str) -> None:
        node = self.node(token.node)
        self._record(token, output)
        if handle == ERROR:
            self._follow(token, node.edges.get(ERROR, ()), output)
            return
        if node.compensation:
            name = f"{node.compensation}:undo:{step_name(token.node, token.frame)}"
            undo = self.program.step_for(node.compensation).named(name)
            self.saga.add(
                undo.call(self.scope(token)), undoes=self.positions.get((token.frame, token.node))
            )
        if node.type.type == "flow.end":
            self.result = output
        elif node.type.type == "logic.loop":
            self._start_loop(node, token, output)
        else:
            self._follow(token, node.edges.get(handle, ()), output)

    def _record(self, token: Token, output: Any) -> None:
        self.outputs.setdefault(token.frame, {})[token.node] = {"output": output}
        if not token.frame:
            self.last_output = output

    def _follow(self, token: Token, targets: tuple[str, ...], output: Any) -> None:
        ended = True
        for target in targets:
            if token.frame and target == token.frame[-1][0]:
                continue  # back to the enclosing loop: this item is done
            ended = False
            if self.node(target).type.type == "logic.join":
                self._arrive(token, target, output)
            else:
                self.queue.append(Token(target, token.frame))
        if ended and token.frame:
            loop_node, index = token.frame[-1]
            self.loops[(token.frame[:-1], loop_node)].results[index] = output

    # --- joins ---------------------------------------------------------------------------
    def _arrive(self, token: Token, join_id: str, output: Any) -> None:
        key = (token.frame, join_id)
        state = self.joins.setdefault(key, JoinState(join_id, token.frame))
        if state.fired:
            return  # mode "any" or "n": later branches end here
        state.arrivals[token.node] = output
        join = self.node(join_id)
        mode = join.config.get("mode", "all")
        needed = {"any": 1, "n": int(join.config.get("count", 1))}.get(mode, join.incoming)
        if len(state.arrivals) >= needed:
            self._fire(state)
            if mode in ("any", "n"):
                self._abandon_feeders(state)

    def _abandon_feeders(self, state: JoinState) -> None:
        feeders = self.program.feeders.get(state.node, frozenset())
        if not feeders:
            return
        self.abandoned.update((state.frame, node_id) for node_id in feeders)
        kept: list[Waiting] = []
        for waiting in self.waiting:
            token = waiting.token
            if (token.frame, token.node) not in self.abandoned:
                kept.append(waiting)
            elif waiting.then == "task":
                # Nobody should be asked to decide what no longer matters.
                name = step_name(token.node, token.frame)
                withdraw_task.named(f"{name}:withdraw")(waiting.state["task"])
        self.waiting = kept
        for (frame, node_id), other in self.joins.items():
            if frame == state.frame and node_id in feeders:
                other.fired = True  # a join inside an abandoned branch never fires

    def _fire(self, state: JoinState) -> None:
        state.fired = True
        self.queue.append(Token(state.node, state.frame, {"arrivals": dict(state.arrivals)}))

    def _settle(self) -> bool:
        """Nothing is ready: fire joins whose other branches were never taken."""
        pending = sorted(
            (state for state in self.joins.values() if not state.fired and state.arrivals),
            key=lambda state: (state.frame, self.node(state.node).order),
        )
        for state in pending:
            join = self.node(state.node)
            if join.config.get("mode", "all") == "n":
                raise GraphError(
                    f"join {state.node!r} needs {join.config.get('count')} branches, "
                    f"only {len(state.arrivals)} arrived"
                )
            self._fire(state)
            return True
        return self._finish_iterations()

    # --- loops ---------------------------------------------------------------------------
    def _start_loop(self, node: CompiledNode, token: Token, output: Any) -> None:
        items = list((output or {}).get("items", []))
        state = LoopState(
            node=node.id,
            frame=token.frame,
            items=items,
            concurrency=int(node.config.get("concurrency", 1)),
            delay=parse_duration(node.config.get("delay", 0)),
        )
        self.loops[(token.frame, node.id)] = state
        if not items:
            self._end_loop(state)
            return
        while state.next_index < len(items) and len(state.running) < state.concurrency:
            self._start_item(state)

    def _start_item(self, state: LoopState) -> None:
        index = state.next_index
        state.next_index += 1
        state.running.append(index)
        token = Token(state.node, (*state.frame, (state.node, index)))
        if index and state.delay:
            name = f"{step_name(state.node, token.frame)}:delay"
            pending = pending_sleep_until(_delay_until(state.delay), name=name)
            self.waiting.append(Waiting(token, pending, "item"))
            return
        self._follow(token, self.node(state.node).edges.get("body", ()), None)

    def _finish_iterations(self) -> bool:
        """Close the loop items nothing is running in any more; start the next ones."""
        progressed = False
        for state in list(self.loops.values()):
            for index in list(state.running):
                frame = (*state.frame, (state.node, index))
                if self._busy(frame):
                    continue
                state.running.remove(index)
                progressed = True
                if state.next_index < len(state.items):
                    self._start_item(state)
            finished = not state.running and state.next_index >= len(state.items)
            if finished and (state.frame, state.node) in self.loops:
                del self.loops[(state.frame, state.node)]
                self._end_loop(state)
                progressed = True
        return progressed

    def _busy(self, frame: Frame) -> bool:
        depth = len(frame)
        return (
            any(token.frame[:depth] == frame for token in self.queue)
            or any(
                state.frame[:depth] == frame and not state.fired and state.arrivals
                for state in self.joins.values()
            )
            or any(state.frame[:depth] == frame for state in self.loops.values())
            or any(waiting.token.frame[:depth] == frame for waiting in self.waiting)
        )

    def _end_loop(self, state: LoopState) -> None:
        results = [state.results.get(index) for index in range(len(state.items))]
        token = Token(state.node, state.frame)
        self._record(token, results)
        self._follow(token, self.node(state.node).edges.get("done", ()), results)

    # --- nodes that wait ----------------------------------------------------------------
    def _begin_waiting(self, node: CompiledNode, token: Token, prepared: Any) -> None:
        """Register what the node waits for; the run goes on with its other branches."""
        name = step_name(node.id, token.frame)
        kind = node.type.type
        if kind == "flow.delay":
            until = datetime.fromisoformat(prepared["until"])
            pending = pending_sleep_until(until, name=f"{name}:sleep")
            self.waiting.append(Waiting(token, pending, "delay", {"output": prepared}))
        elif kind == "flow.wait_event":
            pending = pending_wait_for_any(
                prepared["event_types"],
                match=prepared.get("match") or None,
                filter=node.config.get("filter"),
                filter_scope=self._filter_scope(token) if node.config.get("filter") else None,
                timeout=prepared.get("timeout"),
                name=f"{name}:wait",
            )
            self.waiting.append(Waiting(token, pending, "event"))
        elif kind == "flow.subworkflow":
            if node.config.get("wait", True) is False:
                child = start_child(prepared["workflow"], prepared.get("input"), detached=True)
                self._complete(token, {"run_id": child.run_id}, NORMAL)
                return
            child = start_child(prepared["workflow"], prepared.get("input"))
            self.waiting.append(Waiting(token, pending_child(child), "child"))
        else:
            phases = _task_phases(node.config)
            state = {"task": prepared["task"], "phases": phases, "phase": 0}
            self._wait_for_decision(token, state)

    def _wait_for_decision(self, token: Token, state: dict[str, Any]) -> None:
        # The wait ends from the task's own rows when it is decided (engine.human), never from
        # an event; the last phase's deadline closes the task in the same transaction.
        phase = state["phase"]
        seconds, then = state["phases"][phase]
        wait_name = phase_wait_name(step_name(token.node, token.frame), phase)
        context = current_context()
        assert context is not None
        config = self.node(token.node).config
        calendar = business_calendar(config["calendar"]) if config.get("calendar") else None
        entry = context.begin_pending_task(
            state["task"], wait_name, seconds, closes=then == "expire", calendar=calendar
        )
        self.waiting.append(Waiting(token, Pending(entry.seq, wait_name), "task", state))

    def _resume_first_settled(self) -> None:
        chosen = first_settled([waiting.pending for waiting in self.waiting], name="next")
        if chosen is None:
            names = ", ".join(waiting.pending.name for waiting in self.waiting)
            raise Suspend(f"waiting for {names}")
        waiting = next(item for item in self.waiting if item.pending == chosen)
        self.waiting.remove(waiting)
        token, node = waiting.token, self.node(waiting.token.node)
        if waiting.then == "item":
            self._follow(token, node.edges.get("body", ()), None)
        elif waiting.then == "delay":
            outcome(chosen)
            self._complete(token, waiting.state["output"], NORMAL)
        elif waiting.then == "event":
            try:
                self._complete(token, outcome(chosen), NORMAL)
            except WaitTimeout:
                self._complete(token, None, "timeout")
        elif waiting.then == "child":
            try:
                self._complete(token, outcome(chosen), NORMAL)
            except ChildWorkflowFailed as failure:
                if not node.has_error_edge:
                    raise
                failed = {
                    "run_id": failure.run_id,
                    "status": failure.status,
                    "error": failure.error,
                }
                self._complete(token, failed, ERROR)
        else:
            self._task_settled(token, waiting.state, chosen)

    def _task_settled(self, token: Token, state: dict[str, Any], chosen: Pending) -> None:
        task_id, name = state["task"], step_name(token.node, token.frame)
        settled = outcome(chosen)
        if settled["outcome"] == "timeout":
            then = state["phases"][state["phase"]][1]
            if then == "remind":
                remind_task.named(f"{name}:remind")(task_id)
            elif then == "escalate":
                people = dict(self.node(token.node).config["escalate_to"])
                escalate_task.named(f"{name}:escalate")(task_id, people)
            else:
                expire_task.named(f"{name}:expire")(task_id)
                timed_out = {
                    "task": task_id,
                    "outcome": "timeout",
                    "decisions": settled["decisions"],
                }
                self._complete(token, timed_out, "timeout")
                return
            self._wait_for_decision(token, {**state, "phase": state["phase"] + 1})
            return
        decided = str(settled["outcome"])
        self._complete(
            token, {"task": task_id, "outcome": decided, "decisions": settled["decisions"]}, decided
        )

    # --- failure -------------------------------------------------------------------------
    def _compensate(self) -> None:
        """Run the compensation nodes of completed nodes, newest first; each is a step."""
        # The failure (or cancellation) that started compensating is what the run reports.
        with contextlib.suppress(StepFailed):
            self.saga.compensate()


def _delay_until(seconds: float) -> datetime:
    from datetime import timedelta

    from engine.core.api import now

    return now() + timedelta(seconds=seconds)


__all__ = ["DRIVEN", "GraphError", "Interpreter", "Program", "parse_step_key", "run_node"]
