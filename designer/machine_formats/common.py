"""What the machine file formats share: the file, its refusal, and walking a document."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from engine.core.machines import Problem

CORE_KEYS = ("initial", "context", "states", "transitions")
"""The document's own keys; any other top-level key (an engine extension) travels as is."""


@dataclass(frozen=True)
class MachineFile:
    """A machine as a file holds it: the definition and what names it."""

    definition: dict[str, Any]
    slug: str | None = None
    title: str | None = None
    description: str = ""


class FormatError(ValueError):
    """A file that cannot be read or written in a format: each problem names the element."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(f"{p.field}: {p.message}" for p in problems))
        self.problems = problems


@dataclass
class Collected:
    """Problems found while converting, all reported at once."""

    problems: list[Problem] = field(default_factory=list)

    def add(self, where: str, message: str, node: str | None = None) -> None:
        self.problems.append(Problem(node, where, message))

    def raise_any(self) -> None:
        if self.problems:
            raise FormatError(self.problems)


def children_of(definition: Mapping[str, Any]) -> dict[str | None, list[Mapping[str, Any]]]:
    """States by parent (None for the top level), in document order."""
    children: dict[str | None, list[Mapping[str, Any]]] = {}
    for row in definition.get("states") or []:
        children.setdefault(row.get("parent") or None, []).append(row)
    return children


def transitions_from(definition: Mapping[str, Any]) -> dict[str, list[Mapping[str, Any]]]:
    """Transitions by source state, in document order."""
    found: dict[str, list[Mapping[str, Any]]] = {}
    for row in definition.get("transitions") or []:
        found.setdefault(str(row.get("source")), []).append(row)
    return found


def extras(definition: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in definition.items() if key not in CORE_KEYS}


class TransitionIds:
    """Transition ids for a file that has none: `<source>-<trigger>`, numbered when taken."""

    def __init__(self) -> None:
        self.taken: set[str] = set()

    def make(self, wanted: Any, base: str) -> str:
        if isinstance(wanted, str) and wanted and wanted not in self.taken:
            self.taken.add(wanted)
            return wanted
        candidate, number = base, 1
        while candidate in self.taken:
            number += 1
            candidate = f"{base}-{number}"
        self.taken.add(candidate)
        return candidate
