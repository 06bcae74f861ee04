"""SCXML (W3C), the plain subset: `<state>` (nested, with `initial`), `<final>`, `<transition
event target cond>` (no event: an eventless, `always` transition) and a `<datamodel>` of JSON
`<data>` for the context.

Guards are CEL text in `cond`. Stepwise's own data travels in the `urn:stepwise:scxml`
namespace, which SCXML lets executable content and attributes use: actions as `<sw:action
type="...">{config as JSON}</sw:action>` in `<onentry>`, `<onexit>` and transitions, and
labels, canvas positions and transition ids as `sw:` attributes. Delayed transitions
(`after`) would need `<send delay>` and `<cancel>` and are not exported; parallel and history
states, `<invoke>`, `<script>`, `<send>` and other executable content are refused on import,
each named where it is. DTDs and entities are refused before anything is read.
"""

import json
import re
from collections.abc import Mapping
from typing import Any
from xml.etree import ElementTree
from xml.parsers import expat

from designer.machine_formats.common import (
    Collected,
    FormatError,
    MachineFile,
    TransitionIds,
    children_of,
    extras,
    transitions_from,
)
from engine.core.machines import Problem

SCXML = "http://www.w3.org/2005/07/scxml"
STEPWISE = "urn:stepwise:scxml"
MAX_CHARACTERS = 1_000_000
_DECLARATION = re.compile(r"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


def _q(name: str, namespace: str = SCXML) -> str:
    return f"{{{namespace}}}{name}"


def _sw(name: str) -> str:
    return _q(name, STEPWISE)


# --- export -------------------------------------------------------------------------------------
def to_scxml(file: MachineFile) -> str:
    definition = file.definition
    found = Collected()
    for row in definition.get("transitions") or []:
        if row.get("after") not in (None, ""):
            found.add(
                f"transitions.{row['id']}.after",
                "delayed transitions are not in the SCXML subset; export as XState",
                row["id"],
            )
    found.raise_any()
    ElementTree.register_namespace("", SCXML)
    ElementTree.register_namespace("sw", STEPWISE)
    root = ElementTree.Element(
        _q("scxml"),
        {"version": "1.0", "name": file.slug or "machine", "initial": definition["initial"]},
    )
    if file.title:
        root.set(_sw("title"), file.title)
    if file.description:
        root.set(_sw("description"), file.description)
    if extras(definition):
        ElementTree.SubElement(root, _sw("meta")).text = json.dumps(extras(definition))
    if definition.get("context"):
        datamodel = ElementTree.SubElement(root, _q("datamodel"))
        for key, value in definition["context"].items():
            ElementTree.SubElement(datamodel, _q("data"), {"id": key, "expr": json.dumps(value)})
    children, outgoing = children_of(definition), transitions_from(definition)

    def add_state(parent: ElementTree.Element, row: Mapping[str, Any]) -> None:
        element = ElementTree.SubElement(parent, _q("final" if row.get("final") else "state"))
        element.set("id", row["id"])
        if row.get("initial"):
            element.set("initial", row["initial"])
        if row.get("label"):
            element.set(_sw("label"), row["label"])
        position = row.get("position")
        if isinstance(position, Mapping):
            for axis in ("x", "y"):
                if axis in position:
                    element.set(_sw(axis), json.dumps(position[axis]))
        for hook in ("entry", "exit"):
            if row.get(hook):
                _add_actions(ElementTree.SubElement(element, _q(f"on{hook}")), row[hook])
        for transition in outgoing.get(row["id"], []):
            attributes = {"event": transition["event"]} if transition.get("event") else {}
            attributes["target"] = transition["target"]
            if transition.get("guard"):
                attributes["cond"] = transition["guard"]
            attributes[_sw("id")] = transition["id"]
            _add_actions(
                ElementTree.SubElement(element, _q("transition"), attributes),
                transition.get("actions") or [],
            )
        for child in children.get(row["id"], []):
            add_state(element, child)

    for row in children.get(None, []):
        add_state(root, row)
    ElementTree.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ElementTree.tostring(root, "unicode") + "\n"


def _add_actions(parent: ElementTree.Element, actions: list[Any]) -> None:
    for action in actions:
        element = ElementTree.SubElement(parent, _sw("action"), {"type": str(action.get("type"))})
        element.text = json.dumps(action.get("config") or {})


# --- import -------------------------------------------------------------------------------------
def parse_xml_safely(text: str) -> ElementTree.Element:
    """The document's tree, refusing DTDs and entity declarations (no entity is ever expanded,
    so neither the billion laughs nor an external file can get in) and oversized text."""
    if len(text) > MAX_CHARACTERS:
        raise FormatError([Problem(None, "text", f"more than {MAX_CHARACTERS} characters")])
    if _DECLARATION.search(text):
        raise FormatError([Problem(None, "text", "DTDs and entity declarations are refused")])
    builder = ElementTree.TreeBuilder()
    parser = expat.ParserCreate(namespace_separator="}")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)

    def refuse(*_: Any) -> None:
        raise FormatError([Problem(None, "text", "DTDs and entity declarations are refused")])

    def name(raw: str) -> str:
        return f"{{{raw}" if "}" in raw else raw

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.StartElementHandler = lambda tag, attributes: builder.start(
        name(tag), {name(key): value for key, value in attributes.items()}
    )
    parser.EndElementHandler = lambda tag: builder.end(name(tag))
    parser.CharacterDataHandler = builder.data
    try:
        parser.Parse(text, True)
    except expat.ExpatError as error:
        raise FormatError([Problem(None, "text", f"not XML: {error}")]) from None
    return builder.close()


def from_scxml(text: str) -> MachineFile:
    root = parse_xml_safely(text)
    found = Collected()
    if root.tag != _q("scxml"):
        found.add("scxml", f"the root element must be <scxml> in the {SCXML} namespace")
        found.raise_any()
    reader = _Reader(found)
    reader.children(root, None, "scxml")
    if not reader.rows:
        found.add("scxml", "a machine needs at least one <state>")
    found.raise_any()
    initial = root.get("initial") or next(row["id"] for row in reader.rows if not row.get("parent"))
    if " " in initial.strip():
        found.add("scxml@initial", "one initial state (parallel configurations are not read)")
    known = {row["id"] for row in reader.rows}
    for row in reader.transitions:
        if row["target"] not in known:
            found.add(f"{row['id']}@target", f"there is no state {row['target']!r}", row["source"])
    found.raise_any()
    definition = {
        **reader.meta,
        "initial": initial,
        "context": reader.context,
        "states": reader.rows,
        "transitions": reader.transitions,
    }
    return MachineFile(
        definition,
        slug=root.get("name"),
        title=root.get(_sw("title")),
        description=root.get(_sw("description")) or "",
    )


class _Reader:
    """Flattens nested `<state>` elements into the document's rows, collecting every problem."""

    def __init__(self, found: Collected) -> None:
        self.found = found
        self.rows: list[dict[str, Any]] = []
        self.transitions: list[dict[str, Any]] = []
        self.context: dict[str, Any] = {}
        self.meta: dict[str, Any] = {}
        self.ids = TransitionIds()

    def children(self, element: ElementTree.Element, parent: str | None, path: str) -> None:
        for child in element:
            where = f"{path}/{_local(child.tag)}"
            if child.tag in (_q("state"), _q("final")):
                self.state(child, parent, where)
            elif parent is None and child.tag == _q("datamodel"):
                self.datamodel(child, where)
            elif parent is None and child.tag == _sw("meta"):
                meta = self.json(child.text, where, {})
                self.meta = meta if isinstance(meta, dict) else {}
            elif parent is not None and child.tag in (
                _q("onentry"),
                _q("onexit"),
                _q("transition"),
            ):
                continue  # read with the state
            else:
                self.found.add(where, f"<{_local(child.tag)}> is not in the plain subset", parent)

    def state(self, element: ElementTree.Element, parent: str | None, where: str) -> None:
        state_id = element.get("id")
        if not state_id:
            self.found.add(where, "a state needs an id", parent)
            return
        where = f"{where}[@id='{state_id}']"
        if any(row["id"] == state_id for row in self.rows):
            self.found.add(where, f"two states are called {state_id!r}", state_id)
            return
        row: dict[str, Any] = {"id": state_id}
        if element.get(_sw("label")):
            row["label"] = element.get(_sw("label"))
        if parent:
            row["parent"] = parent
        substates = [child for child in element if child.tag in (_q("state"), _q("final"))]
        if substates:
            row["initial"] = element.get("initial") or substates[0].get("id")
        if element.tag == _q("final"):
            row["final"] = True
        position = {
            axis: self.json(element.get(_sw(axis)), f"{where}@sw:{axis}", 0)
            for axis in ("x", "y")
            if element.get(_sw(axis)) is not None
        }
        if position:
            row["position"] = position
        for hook in ("entry", "exit"):
            actions = [
                action
                for child in element.findall(_q(f"on{hook}"))
                for action in self.actions(child, f"{where}/on{hook}", state_id)
            ]
            if actions:
                row[hook] = actions
        self.rows.append(row)
        for child in element.findall(_q("transition")):
            self.transition(child, state_id, f"{where}/transition")
        self.children(element, state_id, where)

    def transition(self, element: ElementTree.Element, source: str, where: str) -> None:
        event, target = element.get("event"), element.get("target")
        if not target or " " in target.strip():
            self.found.add(f"{where}@target", "one target state", source)
            return
        if event and " " in event.strip():
            self.found.add(f"{where}@event", "one event per transition", source)
            return
        base = f"{source}-{event or 'always'}"
        row: dict[str, Any] = {"id": self.ids.make(element.get(_sw("id")), base), "source": source}
        row["target"] = target.strip()
        if event:
            row["event"] = event.strip()
        else:
            row["always"] = True
        if element.get("cond"):
            row["guard"] = element.get("cond")
        actions = self.actions(element, where, source)
        if actions:
            row["actions"] = actions
        self.transitions.append(row)

    def actions(self, element: ElementTree.Element, where: str, node: str) -> list[dict[str, Any]]:
        actions = []
        for child in element:
            if child.tag != _sw("action") or not child.get("type"):
                name = _local(child.tag)
                self.found.add(f"{where}/{name}", f"<{name}> is not in the plain subset", node)
                continue
            config = self.json(child.text, f"{where}/sw:action", {})
            actions.append({"type": child.get("type"), "config": config})
        return actions

    def datamodel(self, element: ElementTree.Element, where: str) -> None:
        for data in element:
            key = data.get("id")
            if data.tag != _q("data") or not key or data.get("src"):
                self.found.add(f"{where}/{_local(data.tag)}", "a <data id expr> with JSON")
                continue
            self.context[key] = self.json(
                data.get("expr", data.text), f"{where}/data[@id='{key}']", None
            )

    def json(self, text: str | None, where: str, empty: Any) -> Any:
        if text is None or not text.strip():
            return empty
        try:
            return json.loads(text)
        except ValueError:
            self.found.add(where, "must be JSON")
            return empty


def _local(tag: str) -> str:
    namespace, _, local = tag.rpartition("}")
    return f"sw:{local}" if namespace == "{" + STEPWISE else local
