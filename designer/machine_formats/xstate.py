"""XState v5 machine config JSON, the plain subset: nested states, `initial`, `type: "final"`,
`on`, `after` (milliseconds), `always`, `entry`, `exit`, `context`.

Guards are CEL text in `guard` (XState names a guard implementation there; Stepwise has
none); actions are `{"type": <node type>, "params": <its config>}`. State keys are Stepwise
state ids, so they are unique across the whole machine; a target is a sibling's key or
`#id`. Labels, canvas positions and transition ids travel in `meta`, so a round trip keeps
them. Parallel and history states, `invoke`, targetless transitions and named guards or
delays are not in the subset and are refused, each named where it is.
"""

import json
from collections.abc import Mapping
from typing import Any

from designer.machine_formats.common import (
    Collected,
    FormatError,
    MachineFile,
    TransitionIds,
    children_of,
    extras,
    transitions_from,
)
from engine.core.durations import parse_duration
from engine.core.machines import Problem

_MACHINE_KEYS = {"id", "initial", "context", "states", "meta", "description", "version"}
_STATE_KEYS = {
    "id",
    "type",
    "initial",
    "states",
    "on",
    "after",
    "always",
    "entry",
    "exit",
    "meta",
    "description",
}
_TRANSITION_KEYS = {"target", "guard", "actions", "meta", "description", "reenter"}
_UNITS = (("d", 86400), ("h", 3600), ("m", 60), ("s", 1))


# --- export -------------------------------------------------------------------------------------
def to_xstate(file: MachineFile) -> dict[str, Any]:
    definition = file.definition
    parents = {row["id"]: row.get("parent") or None for row in definition["states"]}
    children = children_of(definition)
    outgoing = transitions_from(definition)
    nodes: dict[str, dict[str, Any]] = {}
    need_id: set[str] = set()

    def target(source: str, state: str) -> str:
        if parents.get(source) == parents.get(state):
            return state
        need_id.add(state)
        return f"#{state}"

    def within(state: str | None, ancestor: str) -> bool:
        while state is not None:
            if state == ancestor:
                return True
            state = parents.get(state)
        return False

    def transition(row: Mapping[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {"target": target(row["source"], row["target"])}
        if row.get("guard"):
            out["guard"] = row["guard"]
        if row.get("actions"):
            out["actions"] = [_action_out(action) for action in row["actions"]]
        if within(row["target"], row["source"]):
            out["reenter"] = True  # Stepwise leaves and re-enters the source; XState must be told
        out["meta"] = {"id": row["id"]}
        return out

    def state(row: Mapping[str, Any]) -> dict[str, Any]:
        node: dict[str, Any] = {}
        nodes[row["id"]] = node
        if row.get("final"):
            node["type"] = "final"
        if row.get("initial"):
            node["initial"] = row["initial"]
        for hook in ("entry", "exit"):
            if row.get(hook):
                node[hook] = [_action_out(action) for action in row[hook]]
        for transition_row in outgoing.get(row["id"], []):
            if transition_row.get("event"):
                _append(
                    node.setdefault("on", {}), transition_row["event"], transition(transition_row)
                )
            elif transition_row.get("after") not in (None, ""):
                delay = str(round(parse_duration(transition_row["after"]) * 1000))
                _append(node.setdefault("after", {}), delay, transition(transition_row))
            else:
                node.setdefault("always", []).append(transition(transition_row))
        if children.get(row["id"]):
            node["states"] = {child["id"]: state(child) for child in children[row["id"]]}
        meta = {key: row[key] for key in ("label", "position") if row.get(key)}
        if meta:
            node["meta"] = meta
        return node

    machine: dict[str, Any] = {"id": file.slug or "machine", "initial": definition["initial"]}
    if definition.get("context"):
        machine["context"] = definition["context"]
    machine["states"] = {row["id"]: state(row) for row in children.get(None, [])}
    for state_id in need_id:
        nodes[state_id]["id"] = state_id
    if file.description:
        machine["description"] = file.description
    meta = {**({"title": file.title} if file.title else {}), **extras(definition)}
    if meta:
        machine["meta"] = meta
    return machine


def _append(transitions: dict[str, Any], key: str, transition: dict[str, Any]) -> None:
    """One transition as an object, several as a list (XState tries them in order)."""
    found = transitions.get(key)
    if found is None:
        transitions[key] = transition
    else:
        transitions[key] = [*(found if isinstance(found, list) else [found]), transition]


def _action_out(action: Any) -> Any:
    if isinstance(action, Mapping) and "type" in action:
        return {"type": action["type"], "params": action.get("config", {})}
    return action


# --- import -------------------------------------------------------------------------------------
def from_xstate(text: str) -> MachineFile:
    try:
        config = json.loads(text)
    except ValueError as error:
        raise FormatError([Problem(None, "text", f"not JSON: {error}")]) from None
    found = Collected()
    if not isinstance(config, dict):
        found.add("machine", "an XState machine config is a JSON object")
        found.raise_any()
    reader = _Reader(found)
    for key in sorted(config.keys() - _MACHINE_KEYS):
        found.add(f"machine.{key}", "not in the plain subset Stepwise reads")
    if not isinstance(config.get("states"), dict) or not config["states"]:
        found.add("machine.states", "an object of states")
    else:
        reader.states(config["states"], None, "states")
    reader.resolve()
    context = config.get("context", {})
    if not isinstance(context, dict):
        found.add("machine.context", "must be an object")
    meta = _dict(config.get("meta"))
    found.raise_any()
    children = [row["id"] for row in reader.rows if not row.get("parent")]
    definition: dict[str, Any] = {
        **{key: value for key, value in meta.items() if key != "title"},
        "initial": config.get("initial") or children[0],
        "context": context,
        "states": reader.rows,
        "transitions": reader.transitions,
    }
    return MachineFile(
        definition,
        slug=config.get("id") if isinstance(config.get("id"), str) else None,
        title=meta.get("title") if isinstance(meta.get("title"), str) else None,
        description=str(config.get("description") or ""),
    )


class _Reader:
    """Flattens nested XState states into the document's rows, collecting every problem."""

    def __init__(self, found: Collected) -> None:
        self.found = found
        self.rows: list[dict[str, Any]] = []
        self.transitions: list[dict[str, Any]] = []
        self.ids = TransitionIds()
        self.explicit: dict[str, str] = {}
        self.pending: list[tuple[dict[str, Any], str, str]] = []

    def states(self, nodes: Mapping[str, Any], parent: str | None, path: str) -> None:
        for key, node in nodes.items():
            where = f"{path}.{key}"
            if not isinstance(node, dict):
                self.found.add(where, "a state is an object", key)
                continue
            if any(row["id"] == key for row in self.rows):
                self.found.add(where, f"two states are called {key!r}; state keys are ids", key)
                continue
            self.state(key, node, parent, where)

    def state(self, key: str, node: dict[str, Any], parent: str | None, where: str) -> None:
        for name in sorted(node.keys() - _STATE_KEYS):
            self.found.add(f"{where}.{name}", "not in the plain subset Stepwise reads", key)
        kind = node.get("type", "compound" if node.get("states") else "atomic")
        if kind not in ("atomic", "compound", "final"):
            self.found.add(f"{where}.type", f"{kind!r} states are not supported", key)
        if isinstance(node.get("id"), str):
            self.explicit[node["id"]] = key
        meta = _dict(node.get("meta"))
        row: dict[str, Any] = {"id": key}
        if meta.get("label"):
            row["label"] = str(meta["label"])
        if parent:
            row["parent"] = parent
        if node.get("initial"):
            row["initial"] = node["initial"]
        if kind == "final":
            row["final"] = True
        for hook in ("entry", "exit"):
            if node.get(hook):
                row[hook] = self.actions(node[hook], f"{where}.{hook}", key)
        if isinstance(meta.get("position"), dict):
            row["position"] = meta["position"]
        self.rows.append(row)
        for event, found in _dict(node.get("on")).items():
            self.transition_list(found, key, f"{where}.on.{event}", event=event)
        for delay, found in _dict(node.get("after")).items():
            self.transition_list(
                found, key, f"{where}.after.{delay}", after=self.delay(delay, where)
            )
        if node.get("always"):
            self.transition_list(node["always"], key, f"{where}.always", always=True)
        if node.get("states"):
            if isinstance(node["states"], dict):
                self.states(node["states"], key, f"{where}.states")
            else:
                self.found.add(f"{where}.states", "an object of states", key)

    def delay(self, delay: str, where: str) -> str | float | None:
        if delay.isdigit():
            return _duration_text(int(delay) / 1000)
        try:
            parse_duration(delay)
        except ValueError:
            self.found.add(
                f"{where}.after.{delay}", "a delay in milliseconds (named delays are not read)"
            )
            return None
        return delay

    def transition_list(self, found: Any, source: str, where: str, **trigger: Any) -> None:
        items = found if isinstance(found, list) else [found]
        for index, item in enumerate(items):
            at = f"{where}[{index}]" if isinstance(found, list) else where
            self.transition(item, source, at, trigger)

    def transition(self, item: Any, source: str, where: str, trigger: dict[str, Any]) -> None:
        if isinstance(item, str):
            item = {"target": item}
        if not isinstance(item, dict):
            self.found.add(where, "a target or a transition object", source)
            return
        for name in sorted(item.keys() - _TRANSITION_KEYS):
            self.found.add(f"{where}.{name}", "not in the plain subset Stepwise reads", source)
        if not isinstance(item.get("target"), str):
            self.found.add(
                f"{where}.target", "one target state (targetless transitions are not read)", source
            )
            return
        guard = item.get("guard")
        if guard is not None and not isinstance(guard, str):
            self.found.add(
                f"{where}.guard", "a guard is CEL text over context, event and now", source
            )
        meta = _dict(item.get("meta"))
        base = f"{source}-{trigger.get('event') or ('after' if 'after' in trigger else 'always')}"
        row: dict[str, Any] = {"id": self.ids.make(meta.get("id"), base), "source": source}
        row.update({key: value for key, value in trigger.items() if value is not None})
        if isinstance(guard, str) and guard:
            row["guard"] = guard
        if item.get("actions"):
            row["actions"] = self.actions(item["actions"], f"{where}.actions", source)
        self.transitions.append(row)
        self.pending.append((row, item["target"], f"{where}.target"))

    def actions(self, found: Any, where: str, node: str) -> list[dict[str, Any]]:
        actions = []
        for index, action in enumerate(found if isinstance(found, list) else [found]):
            if isinstance(action, str):
                actions.append({"type": action, "config": {}})
            elif isinstance(action, dict) and isinstance(action.get("type"), str):
                actions.append({"type": action["type"], "config": action.get("params") or {}})
            else:
                self.found.add(f"{where}[{index}]", "an action is {type, params}", node)
        return actions

    def resolve(self) -> None:
        """Targets, once every state is known: a key, `#id` or `.child`."""
        known = {row["id"] for row in self.rows}
        for row, target, where in self.pending:
            name = target[1:] if target[:1] in ("#", ".") else target
            name = self.explicit.get(name, name) if target.startswith("#") else name
            if name in known:
                row["target"] = name
            elif "." in name:
                self.found.add(
                    where, "a sibling's key or #id (state paths are not read)", row["source"]
                )
            else:
                self.found.add(where, f"there is no state {target!r}", row["source"])


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _duration_text(seconds: float) -> str | float:
    """`30d` rather than 2592000000 ms, when a whole number of a unit says it exactly."""
    for unit, size in _UNITS:
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return seconds
