"""Stepwise's durable execution core and its authoring API (plain Python, no Django).

    from engine.core import workflow, step, sleep, wait_for, Retry, every, cron

Workflow code is replayed: completed steps return their journaled results instead of running
again, so everything that is not deterministic belongs in a step or comes from now(),
uuid4() and random() here.

The rooms: `api`, `definitions`, `human`, `triggers`, `saga`, `schedules` are what workflow
code calls; `replay` walks a run's journal through the `journal.Backend` protocol (the engine
implements it on PostgreSQL, `tester_backend` in memory) and `executor` runs one advance;
`context` knows where code runs and runs one step attempt; `retry`, `redo`, `cron`,
`calendar` are the rules; `expressions`, `templates`, `cel_values` are CEL; `testing` is the
harness for workflow authors.
"""

from engine.core.api import (
    idempotency_key,
    log,
    metric,
    now,
    parallel,
    progress,
    random,
    run_child,
    sleep,
    sleep_until,
    start_child,
    uuid4,
    wait_for,
    wait_for_any,
)
from engine.core.bulkheads import Bulkhead, bulkhead
from engine.core.context import ChildRun, StepInfo, current_step
from engine.core.cron import CronError
from engine.core.definitions import (
    StepCall,
    StepDefinition,
    WorkflowDefinition,
    action,
    all_workflows,
    get_workflow,
    step,
    workflow,
)
from engine.core.errors import (
    ChildWorkflowFailed,
    CircuitOpen,
    DefinitionError,
    NonDeterminismError,
    NonRetryableError,
    RateLimited,
    StepFailed,
    StepTimeout,
    WaitTimeout,
    WorkflowError,
)
from engine.core.human import Decision, approval, review
from engine.core.machine_code import State, StateMachine, Transition, register_machine
from engine.core.resilience import BreakerSpec, RateLimitSpec
from engine.core.retry import Retry
from engine.core.saga import Saga
from engine.core.schedules import ScheduleSpec, cron, every
from engine.core.triggers import emit, on

__all__ = [
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
