"""The log node: writes a line to the run's log, kept with its step like log() in code."""

from engine.core.api import log
from engine.core.logs import LEVELS, MAX_LINE_BYTES
from engine.graph.nodes.base import NodeContext, NodeResult, NodeType, register


def _log(context: NodeContext) -> NodeResult:
    message = context.render("message", "")
    level = str(context.config.get("level", "info"))
    text = message if isinstance(message, str) else str(message)
    log("%s", text, level=level)
    return NodeResult(output={"level": level, "message": text[:MAX_LINE_BYTES]})


register(
    NodeType(
        type="action.log",
        group="actions",
        title="Log",
        description="Writes a line to the run's log (shown with the step on the run page).",
        config_schema={
            "type": "object",
            "additionalProperties": False,
            "required": ["message"],
            "properties": {
                "message": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": MAX_LINE_BYTES,
                    "title": "Message",
                    "description": "A template: {{ input.amount }} inserts a value.",
                },
                "level": {"enum": list(LEVELS), "default": "info", "title": "Level"},
            },
        },
        templates=("message",),
        execute=_log,
        icon="scroll",
        defaults={"message": "", "level": "info"},
    )
)
