"""Finding published graphs for the engine: by slug (the newest) or pinned to a version.

This is the only cache of compiled programs and the only resolver of graph steps: a worker
running a parallel branch finds the node's step through the same program as the run itself.
"""

import re
from typing import Any

from engine.core.caches import BoundedCache
from engine.core.definitions import StepDefinition
from engine.graph.interpreter import graph_workflow
from engine.graph.program import Program, parse_step_key
from engine.models import DraftSnapshot, GraphVersion
from engine.runtime.resolving import Resolved

_programs: BoundedCache[tuple[str, int, str, Any], Program] = BoundedCache(500)
_DRAFT_VERSION = re.compile(r"^draft rev (\d+)$")


def version_number(version: str) -> int | None:
    if version.startswith("v") and version[1:].isdigit():
        return int(version[1:])
    return None


def load_program(slug: str, version: str | None) -> Program | None:
    """The compiled program of a published version (the newest live one when version is None).

    A version row never changes, so its compiled program is kept for as long as the process
    lives. The cache is keyed by the row's id, slug and the moment it was made, not by slug and
    number: a workflow deleted and created again under the same slug starts at version 1 with a
    different graph, and a database emptied with its id sequences reset (a restore, the test
    suite's flush) gives an old id to a new row.
    A `draft rev N` version is a designer's test run of a draft, kept as a DraftSnapshot.
    """
    draft = _DRAFT_VERSION.match(version or "")
    if draft is not None:
        snapshot = DraftSnapshot.objects.filter(workflow=slug, revision=int(draft.group(1)))
        return _compiled(slug, "draft", snapshot.values_list("pk", "created_at").first())
    versions = GraphVersion.objects.filter(workflow=slug)
    if version is None:
        versions = versions.filter(retired=False).order_by("-number")
    else:
        number = version_number(version)
        if number is None:
            return None
        versions = versions.filter(number=number)
    return _compiled(slug, "version", versions.values_list("pk", "published_at").first())


def _compiled(slug: str, table: str, row: tuple[int, Any] | None) -> Program | None:
    if row is None:
        return None
    found_id, made_at = row
    key = (table, found_id, slug, made_at)
    program = _programs.get(key)
    if program is not None:
        return program
    model: Any = DraftSnapshot if table == "draft" else GraphVersion
    found = model.objects.filter(pk=found_id).first()
    if found is None:
        return None
    program = Program.from_document(
        slug,
        found.version,
        found.title,
        found.graph,
        compensate_on_cancel=found.compensate_on_cancel,
        timeout=found.timeout_seconds,
    )
    return _programs.keep(key, program)


def resolve_graph(slug: str, version: str | None) -> Resolved | None:
    program = load_program(slug, version)
    if program is None:
        return None
    return Resolved(graph_workflow(program), "graph", program.version)


def resolve_graph_step(key: str) -> StepDefinition | None:
    parsed = parse_step_key(key)
    if parsed is None:
        return None
    slug, version, node_id = parsed
    program = load_program(slug, version)
    if program is None or node_id not in program.nodes:
        return None
    return program.step_for(node_id)
