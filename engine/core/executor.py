"""Run a workflow function against its journal until it completes, fails or must wait."""

from dataclasses import dataclass
from typing import Any, Literal

from engine.core.context import ExecutionContext, enter, leave
from engine.core.definitions import WorkflowDefinition
from engine.core.errors import NonDeterminismError, Suspend, describe_exception
from engine.core.journal import Backend, Entry, Reports
from engine.core.values import to_json_value


@dataclass(frozen=True)
class Outcome:
    status: Literal["completed", "failed", "suspended"]
    output: Any = None
    error: dict[str, Any] | None = None
    reason: str = ""
    reports: Reports | None = None


def execute(
    definition: WorkflowDefinition, input: Any, backend: Backend, journal: dict[int, Entry]
) -> Outcome:
    """Replay the journal and carry on; Cancelled propagates to the caller."""
    context = ExecutionContext(backend, journal)
    token = enter(context)
    try:
        output = definition.fn(input)
        output = to_json_value(output)
    except Suspend as suspended:
        return Outcome("suspended", reason=suspended.reason, reports=context.reports)
    except (Exception, NonDeterminismError) as exc:
        return Outcome("failed", error=describe_exception(exc), reports=context.reports)
    finally:
        leave(token)
    return Outcome("completed", output=output, reports=context.reports)
