"""Drawing a demo machine: states on the demo graphs' grid, transitions named by their source
and event (`draft-submit`), the ids XState and SCXML imports give them too."""

from dataclasses import dataclass
from typing import Any

from designer.demo_graphs.drawing import COLUMN, MARGIN, ROW


@dataclass(frozen=True)
class DemoMachine:
    slug: str
    title: str
    description: str
    definition: dict[str, Any]


def state(state_id: str, label: str, at: tuple[int, int], **more: Any) -> dict[str, Any]:
    column, row = at
    return {
        "id": state_id,
        "label": label,
        **more,
        "position": {"x": MARGIN + column * COLUMN, "y": MARGIN + row * ROW},
    }


def on(source: str, event: str, target: str, **more: Any) -> dict[str, Any]:
    return {"id": f"{source}-{event}", "source": source, "event": event, "target": target, **more}


def python_action(name: str, **args: Any) -> dict[str, Any]:
    return {"type": "action.python", "config": {"action": name, "args": args}}


def emit(event_type: str, **payload: Any) -> dict[str, Any]:
    return {"type": "action.emit", "config": {"type": event_type, "payload": payload}}
