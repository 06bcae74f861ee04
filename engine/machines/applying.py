"""Applying one event to one instance durably: a run of the engine's own workflow.

The run's steps are: `load` (the instance and the event as they are now), then each exit
action, transition action and entry action as its own journaled step, then `commit` (the new
state, context and timers in one transaction, which also starts the next queued event). A
worker that dies mid-transition leaves a run that the engine resumes: completed actions return
their journaled results instead of running again, and the transition is not lost.

The choice of transition is workflow code: it reads only journaled values (the loaded
snapshot, now()) and the pinned definition, which never changes, so a replay chooses the same.
"""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from engine.core.api import now
from engine.core.definitions import WorkflowDefinition, step
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
from engine.core.machines import ALWAYS_LIMIT, MachineDefinition
from engine.core.retry import Retry
from engine.machines.actions import action_label, merged_context, run_action
from engine.machines.committing import commit, snapshot
from engine.machines.definitions import Pinned, pinned_machine
from engine.machines.queue import APPLY_WORKFLOW, START, TIMER_PREFIX
from engine.runtime.resolving import Resolved

_DATABASE_RETRY = Retry(max_attempts=5, initial_delay=0.5)


class ActionFailed(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@step(name="load", retry=_DATABASE_RETRY)
def load_event(event_pk: int) -> dict[str, Any] | None:
    """The instance and the event as they are when the run begins (None: applied already)."""
    return snapshot(event_pk)


@step(name="commit", retry=_DATABASE_RETRY)
def commit_event(event_pk: int, outcome: dict[str, Any]) -> dict[str, Any]:
    return commit(event_pk, outcome)


@dataclass
class Applying:
    """One event's way through the machine, collected for the commit."""

    pinned: Pinned
    loaded: dict[str, Any]
    leaf: str
    context: dict[str, Any]
    actions: list[dict[str, Any]] = field(default_factory=list)
    moves: list[dict[str, Any]] = field(default_factory=list)

    @property
    def definition(self) -> MachineDefinition:
        return self.pinned.definition

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
        record: dict[str, Any] = {"phase": phase, "state": where, "type": label}
        if phase == "transition":
            record = {"phase": phase, "transition": where, "type": label}
        scope = {
            "context": self.context,
            "event": self.loaded["data"],
            "instance": {
                "id": self.loaded["instance"],
                "machine": self.pinned.slug,
                "key": self.loaded["key"],
                "state": self.leaf,
            },
        }
        try:
            output = run_action(
                action,
                name=name,
                key=f"machine:{self.pinned.slug}:{self.pinned.version}:{name}",
                scope=scope,
                code_args=(dict(self.context), dict(self.loaded["data"])),
            )
        except StepFailed as failed:
            self.actions.append({**record, "error": failed.error})
            raise ActionFailed(
                f"the {phase} action {label} of `{where}` failed: "
                f"{failed.error.get('message', failed.error.get('type', 'error'))}"
            ) from None
        self.actions.append({**record, "output": output})
        self.context = merged_context(self.context, output)


def first_move(applying: Applying, at: datetime) -> Step:
    """What the event does first; raises Refused naming the state and the event or guard."""
    definition, loaded, leaf = applying.definition, applying.loaded, applying.leaf
    name = loaded["event"]
    if name == START:
        return start_step(definition)
    if name.startswith(TIMER_PREFIX):
        transition = timer_transition(applying, name.removeprefix(TIMER_PREFIX), at)
    else:
        transition = choose(definition, leaf, name, applying.context, loaded["data"], at)
    return step_for(definition, leaf, transition)


def timer_transition(applying: Applying, transition_id: str, at: datetime) -> Any:
    """The delayed transition that came due, unless the instance left its state meanwhile
    (the timer fired while another event was being applied) or its guard says no."""
    definition, leaf = applying.definition, applying.leaf
    transition = definition.transition(transition_id)
    if transition is None or transition.after_seconds is None:
        raise Refused(f"there is no delayed transition `{transition_id}`")
    due_from = applying.loaded["data"].get("entered_at")
    entered = datetime.fromisoformat(applying.loaded["entered_at"])
    reentered = due_from is not None and datetime.fromisoformat(due_from) < entered
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


def apply_event(input: dict[str, Any]) -> dict[str, Any]:
    """The workflow: load, decide, run the actions, commit."""
    loaded = load_event(input["event"])
    if loaded is None:
        return {"applied": False}
    pinned = pinned_machine(loaded["machine"], loaded["version"])
    at = now()
    applying = Applying(pinned, loaded, loaded["state"], dict(loaded["context"]))
    outcome: dict[str, Any] = {
        "at": at.isoformat(),
        "from": "" if loaded["event"] == START else loaded["state"],
    }
    try:
        applying.take(first_move(applying, at))
        applying.settle(at)
    except Refused as refusal:
        outcome |= {"status": "refused", "reason": refusal.message, "guard": refusal.guard}
    except ActionFailed as failure:
        outcome |= {"status": "failed", "reason": failure.reason}
    else:
        outcome |= {"status": "applied", "to": applying.leaf, "context": applying.context}
    outcome |= {
        "actions": applying.actions,
        "moves": applying.moves,
        "transition": applying.moves[0]["transition"] if applying.moves else "",
    }
    committed: dict[str, Any] = commit_event(input["event"], outcome)
    return committed


APPLY_DEFINITION = WorkflowDefinition(
    slug=APPLY_WORKFLOW,
    fn=apply_event,
    title="Apply a state machine event",
    description="Runs one event's exit, transition and entry actions, then commits the state.",
    version="1",
    compensate_on_cancel=False,
)


def resolve_apply_workflow(slug: str, version: str | None) -> Resolved | None:
    """The engine runs its own workflow through a resolver, so that it is listed nowhere as a
    workflow anyone could start."""
    return Resolved(APPLY_DEFINITION, "machine", "1") if slug == APPLY_WORKFLOW else None
