"""Running a compiled graph on the durable engine: every node is a journaled step.

The interpreter is ordinary workflow code, so it is replayed like any code workflow: it must
walk the graph in the same order every time, and it does, because the order depends only on
the graph and on journaled step results. Tokens move through the graph in waves: the nodes
ready at the same moment run as one parallel group (separate worker tasks), a single ready node
runs inline. Loops run their body once per item in frames of their own (`send[3]` is node
`send` for item 3); joins collect the branches that reach them. Nodes that suspend (delays,
event waits, sub-workflows, human tasks) wait durably after their step has evaluated their
config. What a node does is its type's declaration (`engine.graph.nodes.base.NodeType`): this
module knows no node type by name.
"""

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from engine.core.api import (
    first_settled,
    now,
    parallel,
    pending_sleep_until,
)
from engine.core.definitions import WorkflowDefinition
from engine.core.durations import later
from engine.core.errors import RunCancelled, StepFailed, Suspend, WorkflowError
from engine.core.journal import Position
from engine.core.running import current_context
from engine.core.saga import Saga
from engine.graph.nodes.base import ERROR, NORMAL, JoinRule, Leave, Loop, Wait, WaitContext
from engine.graph.program import CompiledNode, GraphError, Program

Frame = tuple[tuple[str, int], ...]
"""Where a token is: () at the top, then (loop node, item index) per enclosing loop."""


def graph_workflow(program: Program) -> WorkflowDefinition:
    """The workflow definition that runs a compiled graph."""
    return WorkflowDefinition(
        slug=program.slug,
        fn=lambda input: Interpreter(program, input).run(),
        title=program.title,
        description="",
        version=program.version,
        input_schema=program.input_schema,
        # The version's run timeout: the runner arms it when the run starts (and again on retry).
        timeout=program.timeout,
        # A graph without compensation nodes has nothing to undo: cancel ends it at once.
        compensate_on_cancel=program.compensate_on_cancel
        and any(node.compensation for node in program.nodes.values()),
    )


@dataclass
class Token:
    node: str
    frame: Frame
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Waiting:
    """A branch waiting: a suspended node, or a loop item waiting out the loop's delay."""

    token: Token
    wait: Wait
    loop_item: bool = False


@dataclass
class LoopState:
    node: str
    frame: Frame
    loop: Loop
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
        # (frame, node) of branches a join that went on early (`any`, `n`) no longer needs.
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
        except (WorkflowError, RunCancelled) as stopped:
            if not isinstance(stopped, RunCancelled) or stopped.undo:
                self._compensate()
            raise
        return self.last_output if self.result is _NOTHING else self.result

    def node(self, node_id: str) -> CompiledNode:
        return self.program.nodes[node_id]

    def _start_node(self) -> str:
        """The trigger node for what started the run (an event starts at the event trigger)."""
        context = current_context()
        # The Django backend knows its run; the in-memory test harness starts runs by hand.
        run = getattr(context.backend, "run", None) if context else None
        started_by = str(getattr(run, "trigger", ""))
        triggers = [self.node(node_id) for node_id in self.program.triggers]
        for found in (
            [node for node in triggers if started_by in node.type.started_by],
            [node for node in triggers if node.type.default_start],
        ):
            if found:
                return found[0].id
        return triggers[0].id

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

    def _step_scope(self, token: Token) -> dict[str, Any]:
        """What the node's step is given: only the part of the scope it reads, because a
        parallel step is journaled with it (engine.graph.scope_reads)."""
        return self.node(token.node).reads.pick(self.scope(token))

    def _run_steps(self, wave: list[Token]) -> list[dict[str, Any]]:
        steps = [
            self.program.step_for(token.node).named(step_name(token.node, token.frame))
            for token in wave
        ]
        context = current_context()
        if len(wave) == 1:
            result = steps[0](self._step_scope(wave[0]))
            if context is not None and context.last_position is not None:
                self.positions[(wave[0].frame, wave[0].node)] = context.last_position
            return [result]
        calls = [
            step.call(self._step_scope(token)) for step, token in zip(steps, wave, strict=True)
        ]
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
        suspends = node.type.suspends
        if (token.frame, token.node) in self.abandoned:
            # It ran in the same wave as the branch that fired its join: it goes no further.
            withdraw = suspends.withdraw if suspends else None
            if handle != ERROR and withdraw is not None and isinstance(output, Mapping):
                withdraw(self._wait_context(node, token), output)
            return
        self.vars.update(result.get("vars") or {})
        if handle != ERROR and suspends is not None:
            # Register what the node waits for; the run goes on with its other branches.
            self._go_on(token, suspends.begin(self._wait_context(node, token), output))
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
        if node.type.ends_run:
            self.result = output
        elif node.type.loop is not None:
            self._start_loop(node, node.type.loop, token, output)
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
            rule = self.node(target).join_rule()
            if rule is not None:
                self._arrive(token, target, rule, output)
            else:
                self.queue.append(Token(target, token.frame))
        if ended and token.frame:
            loop_node, index = token.frame[-1]
            self.loops[(token.frame[:-1], loop_node)].results[index] = output

    # --- joins ---------------------------------------------------------------------------
    def _arrive(self, token: Token, join_id: str, rule: JoinRule, output: Any) -> None:
        key = (token.frame, join_id)
        state = self.joins.setdefault(key, JoinState(join_id, token.frame))
        if state.fired:
            return  # a join that went on early: later branches end here
        state.arrivals[token.node] = output
        if len(state.arrivals) >= rule.needed:
            self._fire(state)
            if rule.abandons_rest:
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
                continue
            node = self.node(token.node)
            withdraw = node.type.suspends.withdraw if node.type.suspends else None
            if not waiting.loop_item and withdraw is not None:
                withdraw(self._wait_context(node, token), waiting.wait.state)
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
            rule = self.node(state.node).join_rule()
            if rule is not None and rule.strict:
                raise GraphError(
                    f"join {state.node!r} needs {rule.needed} branches, "
                    f"only {len(state.arrivals)} arrived"
                )
            self._fire(state)
            return True
        return self._finish_iterations()

    # --- loops ---------------------------------------------------------------------------
    def _start_loop(self, node: CompiledNode, loop: Loop, token: Token, output: Any) -> None:
        items = list((output or {}).get("items", []))
        state = LoopState(
            node=node.id,
            frame=token.frame,
            loop=loop,
            items=items,
            concurrency=loop.concurrency(node.config),
            delay=loop.delay(node.config),
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
            wake_at = later(now(), state.delay, f'node "{state.node}", field "delay"')
            pending = pending_sleep_until(wake_at, name=name)
            self.waiting.append(Waiting(token, Wait(pending), loop_item=True))
            return
        self._follow(token, self.node(state.node).edges.get(state.loop.body, ()), None)

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
        self._follow(token, self.node(state.node).edges.get(state.loop.done, ()), results)

    # --- nodes that wait ----------------------------------------------------------------
    def _wait_context(self, node: CompiledNode, token: Token) -> WaitContext:
        return WaitContext(
            node_id=node.id,
            config=node.config,
            name=step_name(node.id, token.frame),
            has_error_edge=node.has_error_edge,
            filter_scope=lambda: self._filter_scope(token),
        )

    def _go_on(self, token: Token, then: Wait | Leave) -> None:
        """A suspending node either waits (side by side with other branches) or is done."""
        if isinstance(then, Leave):
            self._complete(token, then.output, then.handle)
        else:
            self.waiting.append(Waiting(token, then))

    def _resume_first_settled(self) -> None:
        chosen = first_settled([waiting.wait.pending for waiting in self.waiting], name="next")
        if chosen is None:
            names = ", ".join(waiting.wait.pending.name for waiting in self.waiting)
            raise Suspend(f"waiting for {names}")
        waiting = next(item for item in self.waiting if item.wait.pending == chosen)
        self.waiting.remove(waiting)
        token, node = waiting.token, self.node(waiting.token.node)
        loop, suspends = node.type.loop, node.type.suspends
        if waiting.loop_item and loop is not None:
            self._follow(token, node.edges.get(loop.body, ()), None)
        elif suspends is not None:
            self._go_on(token, suspends.resume(self._wait_context(node, token), waiting.wait))

    # --- failure -------------------------------------------------------------------------
    def _compensate(self) -> None:
        """Run the compensation nodes of completed nodes, newest first; each is a step."""
        # The failure (or cancellation) that started compensating is what the run reports.
        with contextlib.suppress(StepFailed):
            self.saga.compensate()


__all__ = ["GraphError", "Interpreter", "graph_workflow"]
