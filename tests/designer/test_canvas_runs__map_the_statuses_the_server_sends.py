"""The canvas's run overlay (static/canvas/src/runs.ts) maps exactly the statuses the server
sends: every run status and journal entry status has an entry, and none is there that the
server never sends. TypeScript checks that the maps are used consistently; only this test can
hold them to the Python side."""

import re
from pathlib import Path

from engine.core.journal import EntryStatus
from engine.models import Run, RunStatus

CANVAS_SRC = Path(__file__).resolve().parents[2] / "static" / "canvas" / "src"
RUNS_TS = CANVAS_SRC / "runs.ts"

# Written by the engine for the steps of a parallel group: waiting for a free slot, and on a worker.
PARALLEL_STEP_STATUSES = {"queued", "dispatched"}


def object_literal(source: str, name: str) -> dict[str, str]:
    """The `key: value` pairs of `const <name> = { ... }` in TypeScript source."""
    found = re.search(rf"const {name} = \{{(.*?)\}}", source, re.DOTALL)
    assert found, f"runs.ts no longer declares {name}"
    return dict(re.findall(r"^\s*(\w+): \"?(\w+)\"?,", found.group(1), re.MULTILINE))


def test_object_literal_reads_the_pairs_it_is_given() -> None:
    source = 'const MAP = {\n  one: true,\n  two: "done", // why\n} as const;'
    assert object_literal(source, "MAP") == {"one": "true", "two": "done"}


def test_every_run_status_is_mapped_and_final_exactly_when_the_engine_says_so() -> None:
    final = object_literal(RUNS_TS.read_text(), "RUN_IS_FINAL")
    assert set(final) == set(RunStatus.values)
    for status, is_final in final.items():
        assert (is_final == "true") == Run(status=status).is_terminal, status


def test_every_journal_entry_status_has_a_colour_and_no_other_status_has_one() -> None:
    colours = object_literal(RUNS_TS.read_text(), "STEP_STATES")
    assert set(colours) == {status.value for status in EntryStatus} | PARALLEL_STEP_STATUSES
    run_state = re.search(r"type RunState = (.*);", (CANVAS_SRC / "types.ts").read_text())
    assert run_state, "types.ts no longer declares RunState"
    assert set(colours.values()) <= set(re.findall(r'"(\w+)"', run_state.group(1)))
