"""The folders are the architecture: these tests keep the imports pointing one way.

Apps: accounts ← engine ← designer, engine ← monitoring; config wires them all. Inside the
engine, rooms are layered (ROOMS, lowest first): a room imports only rooms below it, and no
module imports itself back through others. Each rule is shown to catch a forbidden import fed
to the same check. That the core imports no Django is pinned beside it, in
tests/engine/core/test_core__imports_no_django_nor_the_engine.py.
"""

import pytest

from tests.architecture.imports import Import, cycles, imports_of, project_imports

# Which project apps each app may import (config, the wiring, may import every app).
APP_MAY_IMPORT = {
    "accounts": set(),
    "engine": {"accounts"},
    "designer": {"accounts", "engine"},
    "monitoring": {"accounts", "engine"},
    "config": {"accounts", "engine", "designer", "monitoring"},
}

# The engine's rooms, lowest first; a room may import the rooms before it. The doors (the
# admin, the API, the Celery tasks, views, app start-up and commands) may import any room.
ROOMS = [
    "engine.core",  # plain Python: authoring API, replay, retry, CEL, cron, the test harness
    "engine.models",  # the tables
    "engine.messaging",  # messages to workers, signals to listeners
    "engine.outbound",  # calling the world from a step: address guard, secrets
    "engine.resilience",  # circuit breakers, rate limits, bulkheads, priorities, caps
    "engine.human",  # people's tasks and decisions
    "engine.runtime",  # runs, the journal, the advancer, timers, sweepers
    "engine.inbound",  # events, triggers, webhooks, schedules
    "engine.graph",  # the graph format, validation, node types, interpreter
    "engine.machines",  # state machines: validation, publishing, instances and their events
    "engine.demos",  # the demo workflows, written as any author would
]
DOORS = ["engine.admin", "engine.api", "engine.tasks", "engine.views", "engine.apps"]
DOORS += ["engine.management"]


def app_of(module: str) -> str:
    return module.split(".")[0]


def room_of(module: str) -> str | None:
    for room in [*ROOMS, *DOORS]:
        if module == room or module.startswith(room + "."):
            return room
    return None


def app_direction_problems(found: list[Import]) -> list[str]:
    return [
        f"{item.importer}:{item.line} imports {item.imported}"
        for item in found
        if app_of(item.importer) != app_of(item.imported)
        and app_of(item.imported) not in APP_MAY_IMPORT[app_of(item.importer)]
    ]


def room_problems(found: list[Import]) -> list[str]:
    problems = []
    for item in found:
        if app_of(item.importer) != "engine" or app_of(item.imported) != "engine":
            continue
        source, target = room_of(item.importer), room_of(item.imported)
        if source is None or target is None:
            problems.append(f"{item.importer} or {item.imported} is in no room of ROOMS/DOORS")
        elif source in DOORS or source == target:
            continue
        elif target in DOORS or ROOMS.index(target) > ROOMS.index(source):
            problems.append(
                f"{item.importer}:{item.line} imports {item.imported}: {source} is below {target}"
            )
    return problems


def cycle_problems(found: list[Import]) -> list[str]:
    return [" ↔ ".join(cycle) for cycle in cycles((i.importer, i.imported) for i in found)]


@pytest.fixture(scope="module")
def found() -> list[Import]:
    return project_imports()


def test_apps_import_in_one_direction(found: list[Import]) -> None:
    assert app_direction_problems(found) == []


def test_engine_rooms_import_only_the_rooms_below(found: list[Import]) -> None:
    assert room_problems(found) == []


def test_no_module_imports_itself_back_through_others(found: list[Import]) -> None:
    assert cycle_problems(found) == []


def test_each_rule_catches_a_forbidden_import() -> None:
    engine_imports_designer = imports_of("engine.runtime.runs", "from designer import api", set())
    assert app_direction_problems(engine_imports_designer) == [
        "engine.runtime.runs:1 imports designer"
    ]
    monitoring_imports_designer = [Import("monitoring.views", "designer.drafts", 3)]
    assert app_direction_problems(monitoring_imports_designer)

    runtime_imports_inbound = imports_of(
        "engine.runtime.store",
        "def later():\n    from engine.inbound.events import deliver_event\n",
        set(),
    )
    assert room_problems(runtime_imports_inbound) == [
        "engine.runtime.store:2 imports engine.inbound.events: "
        "engine.runtime is below engine.inbound"
    ]
    assert room_problems([Import("engine.graph.program", "engine.api.runs", 1)])
    assert room_problems([Import("engine.api.runs", "engine.graph.program", 1)]) == []

    a_cycle = [Import("engine.inbound.events", "engine.inbound.triggers", 1)]
    a_cycle += [Import("engine.inbound.triggers", "engine.inbound.events", 9)]
    assert cycle_problems(a_cycle) == ["engine.inbound.events ↔ engine.inbound.triggers"]
