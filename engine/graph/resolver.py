"""Finding published graphs for the engine: by slug (the newest) or pinned to a version."""

import threading

from engine.core.definitions import StepDefinition
from engine.definitions import Resolved
from engine.graph.interpreter import Program, parse_step_key
from engine.models import GraphVersion

_programs: dict[tuple[str, int], Program] = {}
_lock = threading.Lock()
_MAX_PROGRAMS = 500


def version_number(version: str) -> int | None:
    if version.startswith("v") and version[1:].isdigit():
        return int(version[1:])
    return None


def load_program(slug: str, version: str | None) -> Program | None:
    """The compiled program of a published version (the newest live one when version is None).

    Versions are immutable, so a compiled program is kept for as long as the process lives.
    """
    versions = GraphVersion.objects.filter(workflow=slug)
    if version is None:
        found = versions.filter(retired=False).order_by("-number").first()
    else:
        number = version_number(version)
        if number is None:
            return None
        with _lock:
            cached = _programs.get((slug, number))
        if cached is not None:
            return cached
        found = versions.filter(number=number).first()
    if found is None:
        return None
    key = (slug, found.number)
    with _lock:
        program = _programs.get(key)
        if program is None:
            if len(_programs) >= _MAX_PROGRAMS:
                _programs.pop(next(iter(_programs)))
            program = Program(
                slug,
                found.version,
                found.title,
                found.graph,
                compensate_on_cancel=found.compensate_on_cancel,
            )
            _programs[key] = program
    return program


def resolve_graph(slug: str, version: str | None) -> Resolved | None:
    program = load_program(slug, version)
    if program is None:
        return None
    return Resolved(program.definition, "graph", program.version)


def resolve_graph_step(key: str) -> StepDefinition | None:
    parsed = parse_step_key(key)
    if parsed is None:
        return None
    slug, version, node_id = parsed
    program = load_program(slug, version)
    if program is None or node_id not in program.nodes:
        return None
    return program.step_for(node_id)
