"""Applying one event to one instance durably: a run of the engine's own workflow.

The run's steps are: `load` (the instance and the event as they are now), then each exit
action, transition action and entry action as its own journaled step, then `commit` (the new
state, context and timers in one transaction, which also starts the next queued event). A
worker that dies mid-transition leaves a run that the engine resumes: completed actions return
their journaled results instead of running again, and the transition is not lost.

The choice of transition is workflow code: it reads only journaled values (the loaded
snapshot, now()) and the pinned definition, which never changes, so a replay chooses the same.
"""

from datetime import datetime
from typing import Any

from engine.core.api import now
from engine.core.definitions import WorkflowDefinition, step
from engine.core.machine_applying import ActionCall, Applying, apply
from engine.core.retry import Retry
from engine.machines.actions import run_action
from engine.machines.committing import commit, snapshot
from engine.machines.definitions import pinned_machine
from engine.machines.queue import APPLY_WORKFLOW
from engine.runtime.resolving import Resolved

_DATABASE_RETRY = Retry(max_attempts=5, initial_delay=0.5)


@step(name="load", retry=_DATABASE_RETRY)
def load_event(event_pk: int) -> dict[str, Any] | None:
    """The instance and the event as they are when the run begins (None: applied already)."""
    return snapshot(event_pk)


@step(name="commit", retry=_DATABASE_RETRY)
def commit_event(event_pk: int, outcome: dict[str, Any]) -> dict[str, Any]:
    return commit(event_pk, outcome)


def apply_event(input: dict[str, Any]) -> dict[str, Any]:
    """The workflow: load, decide and run the actions (engine.core.machine_applying), commit."""
    loaded = load_event(input["event"])
    if loaded is None:
        return {"applied": False}
    pinned = pinned_machine(loaded["machine"], loaded["version"])

    def run(call: ActionCall) -> Any:
        # The key keeps a replay from running an action whose step already completed.
        return run_action(call, key=f"machine:{pinned.slug}:{pinned.version}:{call.name}")

    applying = Applying(
        definition=pinned.definition,
        instance={"id": loaded["instance"], "machine": pinned.slug, "key": loaded["key"]},
        leaf=loaded["state"],
        context=dict(loaded["context"]),
        data=loaded["data"],
        entered_at=datetime.fromisoformat(loaded["entered_at"]),
        run=run,
    )
    committed: dict[str, Any] = commit_event(
        input["event"], apply(applying, loaded["event"], now())
    )
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
