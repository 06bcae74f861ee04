"""engine.core's public names are pinned: adding or removing an export is a conscious change
made here as well, as SDKs pin theirs."""

import engine.core

EXPORTS = [
    "BreakerSpec",
    "Bulkhead",
    "ChildRun",
    "ChildWorkflowFailed",
    "CircuitOpen",
    "CronError",
    "Decision",
    "DefinitionError",
    "NonDeterminismError",
    "NonRetryableError",
    "RateLimitSpec",
    "RateLimited",
    "Retry",
    "Saga",
    "ScheduleSpec",
    "State",
    "StateMachine",
    "StepCall",
    "StepDefinition",
    "StepFailed",
    "StepInfo",
    "StepTimeout",
    "Transition",
    "WaitTimeout",
    "WorkflowDefinition",
    "WorkflowError",
    "action",
    "all_workflows",
    "approval",
    "bulkhead",
    "cron",
    "current_step",
    "emit",
    "every",
    "get_workflow",
    "idempotency_key",
    "log",
    "metric",
    "now",
    "on",
    "parallel",
    "progress",
    "random",
    "register_machine",
    "review",
    "run_child",
    "sleep",
    "sleep_until",
    "start_child",
    "step",
    "uuid4",
    "wait_for",
    "wait_for_any",
    "workflow",
]


def test_the_exports_are_exactly_the_pinned_names() -> None:
    """__all__ lists exactly these names, sorted, so a diff shows every change to the API."""
    assert sorted(EXPORTS) == EXPORTS
    assert engine.core.__all__ == EXPORTS


def test_every_export_can_be_imported() -> None:
    """Each pinned name is defined, so `from engine.core import *` works."""
    missing = [name for name in EXPORTS if not hasattr(engine.core, name)]
    assert missing == []
