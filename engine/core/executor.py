"""Run a workflow function against its journal until it completes, fails or must wait."""

from dataclasses import dataclass
from typing import Any, Literal

from engine.core.context import enter, leave
from engine.core.definitions import WorkflowDefinition
from engine.core.errors import NonDeterminismError, RunCancelled, Suspend, describe_exception
from engine.core.journal import Backend, Entry, Reports
from engine.core.replay import ExecutionContext
from engine.core.values import JSON, to_json_value


@dataclass(frozen=True)
class Outcome:
    status: Literal["completed", "failed", "suspended", "cancelled", "timed_out"]
    output: JSON = None
    error: dict[str, Any] | None = None
    reason: str = ""
    reports: Reports | None = None
    stopped_at: int | None = None
    """The journal position where a failed or cancelled run stopped: where a retry resumes."""


def execute(
    definition: WorkflowDefinition, input: JSON, backend: Backend, journal: dict[int, Entry]
) -> Outcome:
    """Replay the journal and carry on; Cancelled propagates to the caller."""
    context = ExecutionContext(backend, journal)
    context.workflow = definition
    token = enter(context)
    try:
        output = definition.fn(input)
        output = to_json_value(output)
    except Suspend as suspended:
        return Outcome("suspended", reason=suspended.reason, reports=context.reports)
    except RunCancelled:
        pass  # ends below, like a workflow that swallowed the cancellation
    except (Exception, NonDeterminismError) as exc:
        if context.cancelled is None:
            return Outcome(
                "failed",
                error=describe_exception(exc),
                reports=context.reports,
                stopped_at=context.failure_position(exc),
            )
    finally:
        leave(token)
    if context.cancelled is not None:
        # Once the cancellation reached it, the run ends cancelled however the code ended.
        cancelled = context.cancelled
        kind = "RunTimeout" if cancelled.status == "timed_out" else "Cancelled"
        return Outcome(
            "timed_out" if cancelled.status == "timed_out" else "cancelled",
            error={"type": kind, "message": cancelled.reason},
            reports=context.reports,
            stopped_at=context.cancelled_at,
        )
    return Outcome("completed", output=output, reports=context.reports)
