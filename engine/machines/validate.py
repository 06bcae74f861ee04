"""A machine document's problems: its structure (engine.core.machines) and every action's
config, checked by the node type it names as a graph node's would be."""

from collections.abc import Mapping
from typing import Any

from engine.core.machines import TASK_EVENT_PREFIX, Problem, machine_problems
from engine.graph.nodes import CheckContext, get_node_type
from engine.graph.validate import validate_node_config

ACTION_GROUPS = ("actions",)
"""Node types a state or transition may run; people's tasks (human.*) only as a state's entry
action (engine.machines.tasks): the state then waits for `task.<outcome>` events."""

CLOCK_FIELDS = ("timeout", "reminder", "escalate_to", "escalation_timeout")
"""A task's own clock needs a waiting run; in a machine, time belongs to the state (`after`)."""


def definition_problems(document: Any, context: CheckContext | None = None) -> list[Problem]:
    problems = machine_problems(document)
    if not isinstance(document, Mapping):
        return problems
    for where, field, actions in _action_lists(document):
        for index, action in enumerate(actions):
            problems += _action_problems(where, f"{field}[{index}]", action, context)
    return problems + task_problems(document)


def _human_type(action: Any) -> str | None:
    if isinstance(action, Mapping) and isinstance(action.get("type"), str):
        node_type = get_node_type(action["type"])
        if node_type is not None and node_type.group == "human":
            return node_type.type
    return None


def task_problems(document: Mapping[str, Any]) -> list[Problem]:
    """Tasks opened on entry: one per state, no clock of their own, a transition for the
    decision; and `task.*` transitions only where a task can be decided."""
    rows = [row for row in document.get("states") or [] if isinstance(row, Mapping)]
    parents = {str(row.get("id")): row.get("parent") for row in rows}
    outcomes: dict[str, set[str]] = {}
    problems: list[Problem] = []
    for row in rows:
        state = str(row.get("id"))
        entry: list[Any] = row["entry"] if isinstance(row.get("entry"), list) else []
        found = [(index, kind) for index, a in enumerate(entry) if (kind := _human_type(a))]
        for index, _kind in found[1:]:
            problems.append(
                Problem(state, f"entry[{index}].type", "a state opens at most one task")
            )
        if not found:
            continue
        index, kind = found[0]
        config = entry[index].get("config") or {}
        for name in CLOCK_FIELDS:
            if name in config:
                problems.append(
                    Problem(
                        state,
                        f"entry[{index}].config.{name}",
                        "a task in a state has no clock of its own: give the state a delayed "
                        "transition (`after`); leaving the state withdraws the task",
                    )
                )
        node_type = get_node_type(kind)
        outputs = node_type.outputs if node_type else ()
        named = outputs(config) if callable(outputs) else outputs
        decided = {o for o in named if o != "timeout"}
        outcomes[state] = {f"{TASK_EVENT_PREFIX}{o}" for o in decided}

    def task_state_of(state: Any) -> str | None:
        seen: set[str] = set()
        while isinstance(state, str) and state not in seen:
            if state in outcomes:
                return state
            seen.add(state)
            state = parents.get(state)
        return None

    answered: set[str] = set()
    for row in document.get("transitions") or []:
        if not isinstance(row, Mapping) or not str(row.get("event") or "").startswith(
            TASK_EVENT_PREFIX
        ):
            continue
        event, where = str(row["event"]), str(row.get("id"))
        owner = task_state_of(row.get("source"))
        if owner is None:
            problems.append(
                Problem(
                    where,
                    "event",
                    f"{event} arrives only in a state whose entry opens an approval or a review",
                )
            )
        elif event not in outcomes[owner]:
            allowed = ", ".join(sorted(outcomes[owner]))
            problems.append(
                Problem(where, "event", f"the task of `{owner}` ends only as {allowed}")
            )
        else:
            answered.add(owner)
    for state in outcomes:
        if state not in answered:
            problems.append(
                Problem(
                    state,
                    "entry",
                    "nothing happens when its task is decided: add a transition on "
                    + " or ".join(sorted(outcomes[state])),
                )
            )
    return problems


def _action_lists(document: Mapping[str, Any]) -> list[tuple[str, str, list[Any]]]:
    found: list[tuple[str, str, list[Any]]] = []
    for row in document.get("states") or []:
        if isinstance(row, Mapping) and isinstance(row.get("id"), str):
            for hook in ("entry", "exit"):
                if isinstance(row.get(hook), list):
                    found.append((row["id"], hook, row[hook]))
    for row in document.get("transitions") or []:
        if isinstance(row, Mapping) and isinstance(row.get("actions"), list):
            found.append((str(row.get("id")), "actions", row["actions"]))
    return found


def _action_problems(
    where: str, field: str, action: Any, context: CheckContext | None
) -> list[Problem]:
    if not isinstance(action, Mapping) or not isinstance(action.get("type"), str):
        return [Problem(where, field, 'an action is {"type": <node type>, "config": {...}}')]
    node_type = get_node_type(action["type"])
    human = node_type is not None and node_type.group == "human"
    if human and not field.startswith("entry["):
        return [
            Problem(
                where,
                f"{field}.type",
                f"{action['type']} can only be a state's entry action: the state then waits "
                f"for the decision as its {TASK_EVENT_PREFIX}approved or "
                f"{TASK_EVENT_PREFIX}rejected event",
            )
        ]
    if node_type is not None and node_type.group not in ACTION_GROUPS and not human:
        return [
            Problem(where, f"{field}.type", f"{action['type']} is not an action a state can run")
        ]
    found = (
        validate_node_config(action["type"], where, action.get("config", {}), context)
        if context is not None
        else validate_node_config(action["type"], where, action.get("config", {}))
    )
    return [
        Problem(where, f"{field}.{problem.field}" if problem.field else field, problem.message)
        for problem in found
    ]
