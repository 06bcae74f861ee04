"""Which definition an instance runs: a code machine (version 0) or a published version.

An instance is pinned to the version it started on. Code machines have no numbered versions
(the code is the version, as for code workflows), so their instances carry CODE_VERSION.
"""

from dataclasses import dataclass
from datetime import datetime

from engine.core.caches import BoundedCache
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


_parsed: BoundedCache[tuple[int, str, datetime], Pinned] = BoundedCache(500)


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
    row = (
        MachineVersion.objects.filter(machine=slug, number=version)
        .values_list("pk", "published_at")
        .first()
    )
    if row is None:
        raise UnknownMachine(slug)
    row_pk, published_at = row
    found = _parsed.get((row_pk, slug, published_at))
    return found if found is not None else _from_row(MachineVersion.objects.get(pk=row_pk))


def _from_row(row: MachineVersion) -> Pinned:
    """A version row never changes, so its parsed definition is kept while the process lives.
    Keyed as compiled graphs are (engine.graph.resolver): by the row's id, slug and the moment
    it was published, as a database emptied with its id sequences reset (a restore, a flush)
    gives an old id to a new row, and a worker that lives through it must not run the old
    definition for it."""
    key = (row.pk, row.machine, row.published_at)
    found = _parsed.get(key)
    if found is not None:
        return found
    return _parsed.keep(
        key, Pinned(row.machine, row.number, row.title, parse_machine(row.definition))
    )
