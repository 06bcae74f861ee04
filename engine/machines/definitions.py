"""Which definition an instance runs: a code machine (version 0) or a published version.

An instance is pinned to the version it started on. Code machines have no numbered versions
(the code is the version, as for code workflows), so their instances carry CODE_VERSION.
"""

import threading
from dataclasses import dataclass

from engine.core.machine_code import get_machine
from engine.core.machines import MachineDefinition, parse_machine
from engine.machines.publishing import latest_version
from engine.models import MachineVersion

CODE_VERSION = 0
"""MachineInstance.version of an instance of a machine registered in code."""


class UnknownMachine(LookupError):
    def __init__(self, slug: str) -> None:
        self.slug = slug
        super().__init__(f"no machine called {slug!r}")


@dataclass(frozen=True)
class Pinned:
    """One version of a machine, ready to run."""

    slug: str
    version: int
    title: str
    definition: MachineDefinition


_parsed: dict[int, Pinned] = {}
_lock = threading.Lock()


def newest_machine(slug: str) -> Pinned:
    """What a new instance of `slug` runs: the code machine, else the newest live version."""
    code = get_machine(slug)
    if code is not None:
        return Pinned(slug, CODE_VERSION, code.title, code.definition)
    row = latest_version(slug)
    if row is None:
        raise UnknownMachine(slug)
    return _from_row(row)


def pinned_machine(slug: str, version: int) -> Pinned:
    """The definition an instance is pinned to (retired versions included)."""
    if version == CODE_VERSION:
        code = get_machine(slug)
        if code is None:
            raise UnknownMachine(slug)
        return Pinned(slug, CODE_VERSION, code.title, code.definition)
    row_pk = (
        MachineVersion.objects.filter(machine=slug, number=version)
        .values_list("pk", flat=True)
        .first()
    )
    if row_pk is None:
        raise UnknownMachine(slug)
    with _lock:
        found = _parsed.get(row_pk)
    return found if found is not None else _from_row(MachineVersion.objects.get(pk=row_pk))


def _from_row(row: MachineVersion) -> Pinned:
    # A version row never changes, so its parsed definition is kept for as long as the process
    # lives; keyed by the row (as compiled graphs are), not by slug and number.
    with _lock:
        found = _parsed.get(row.pk)
        if found is None:
            found = Pinned(row.machine, row.number, row.title, parse_machine(row.definition))
            _parsed[row.pk] = found
        return found
