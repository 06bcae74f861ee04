"""The replay the calling code runs in, whole: what workflow code and node types ask of it."""

from engine.core.context import running_workflow
from engine.core.errors import DefinitionError
from engine.core.replay import ExecutionContext


def current_context() -> ExecutionContext | None:
    running = running_workflow()
    # engine.core.context keeps it as a RunningWorkflow; only executor.execute enters one, an
    # ExecutionContext, and the check gives the type back without trusting that.
    return running if isinstance(running, ExecutionContext) else None


def require_context(what: str) -> ExecutionContext:
    context = current_context()
    if context is None:
        raise DefinitionError(f"{what} works only inside a running workflow")
    return context
