# engine.core.step(...) is annotated "-> Any", which strict mypy calls an untyped decorator.
"""Monitoring: progress and metrics reported from workflow code, shown live in the monitor."""

from typing import Any

from engine.core import metric, now, progress, step, workflow

IMPORT_STAGES = ("download", "validate", "transform", "load", "report")


@step
def run_import_stage(stage: str, data: dict[str, Any]) -> dict[str, Any]:
    """Run one stage of an import (simulated)."""
    return {"stage": stage, "source": data["source"], "ok": True}


@workflow("tracked-import", tags=("demo", "progress"))
def tracked_import(data: dict[str, Any]) -> dict[str, Any]:
    """Import a file in five stages, reporting progress before each stage and at the end."""
    # progress() is called from workflow code, not from inside a step: a step runs outside
    # the run (possibly on another worker) and has no run to report to.
    total = len(IMPORT_STAGES)
    results = []
    for number, stage in enumerate(IMPORT_STAGES):
        progress(number, total, f"{stage}…")
        results.append(run_import_stage.named(stage)(stage, data))
    progress(total, total, "done")
    return {"stages": [result["stage"] for result in results]}


@step(name="operation")
def measured_step(data: dict[str, Any]) -> dict[str, Any]:
    """The operation being measured (simulated)."""
    return {"value": data.get("value"), "ok": True}


@workflow("measured-operation", tags=("demo", "progress"))
def measured_operation(data: dict[str, Any]) -> dict[str, Any]:
    """Run an operation and record its duration and outcome as metrics."""
    # now() rather than a wall clock: journaled, so a replay measures the same duration.
    started = now()
    result: dict[str, Any] = measured_step(data)
    metric("duration_seconds", (now() - started).total_seconds())
    metric("succeeded", 1)
    return result
