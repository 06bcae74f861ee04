"""Log lines a step writes with log(): kept with the step's journal record, bounded per attempt.

Inside a step, lines are collected while the attempt runs and written in the same commit as its
result, so a replay (which returns the journaled result and never runs the step again) cannot
write them twice. Inside workflow code, each log() is a journaled value of its own (see
engine.core.api.log) for the same reason.
"""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from engine.core.errors import DefinitionError
from engine.core.values import arguments_value

LEVELS = ("debug", "info", "warning", "error")
MAX_LINES = 200
"""Lines kept per step attempt; later ones are counted in the truncation marker."""
MAX_BYTES = 16_000
"""UTF-8 bytes of messages kept per step attempt."""
MAX_LINE_BYTES = 2_000
"""One message longer than this is cut, ending with an ellipsis."""


def format_message(message: str, args: tuple[Any, ...]) -> str:
    """`message % args` as the logging module does; a mismatch keeps both rather than failing
    the step over a log line."""
    text = str(message)
    if args:
        try:
            text = text % args
        except (TypeError, ValueError, KeyError):
            text = " ".join([text, *(repr(arg) for arg in args)])
    encoded = text.encode()
    if len(encoded) > MAX_LINE_BYTES:
        text = encoded[: MAX_LINE_BYTES - 3].decode(errors="ignore") + "…"
    return text


def check_level(level: str) -> str:
    if level not in LEVELS:
        raise DefinitionError(f"log(level=...) must be one of {', '.join(LEVELS)}, not {level!r}")
    return level


def line(level: str, message: str, at: datetime) -> dict[str, Any]:
    return {"at": at.isoformat(), "level": level, "message": message}


@dataclass
class LogBook:
    """The lines of one step attempt, with the bound applied as they arrive, and the input the
    attempt noted when its arguments are not what people should see (a graph node's rendered
    config; engine.runtime.step_input)."""

    lines: list[dict[str, Any]] = field(default_factory=list)
    size: int = 0
    dropped: int = 0
    noted_input: Any = None
    has_input: bool = False

    def note_input(self, value: Any) -> None:
        self.noted_input, self.has_input = value, True

    def input_or(self, args: Any, kwargs: Any) -> Any:
        """The noted input, else the step's arguments."""
        return self.noted_input if self.has_input else arguments_value(args, kwargs)

    def add(self, level: str, message: str, at: datetime) -> None:
        cost = len(message.encode())
        if self.dropped or len(self.lines) >= MAX_LINES or self.size + cost > MAX_BYTES:
            self.dropped += 1
            return
        self.size += cost
        self.lines.append(line(level, message, at))

    def recorded(self) -> list[dict[str, Any]] | None:
        """What the journal keeps: the lines, then a marker saying how many were left out."""
        if not self.lines and not self.dropped:
            return None
        if not self.dropped:
            return list(self.lines)
        marker = {
            "at": self.lines[-1]["at"] if self.lines else "",
            "level": "warning",
            "message": f"… {self.dropped} more lines not kept (a step keeps {MAX_LINES} lines "
            f"or {MAX_BYTES:,} bytes)",
            "truncated": self.dropped,
        }
        return [*self.lines, marker]
