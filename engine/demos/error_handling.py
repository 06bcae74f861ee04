# engine.core.step(...) is annotated "-> Any", which strict mypy calls an untyped decorator.
"""Error handling: a step that fails for good raises StepFailed, which the workflow may catch."""

from typing import Any

from engine.core import StepFailed, step, workflow


@step(name="risky-operation")
def risky_operation(data: dict[str, Any]) -> dict[str, Any]:
    """Do something that may fail (simulated: fails when the input asks it to)."""
    if data.get("fail"):
        raise ConnectionError("the service is unreachable")
    return {"source": "primary", "value": data.get("value")}


@step(name="log-error")
def log_error(error: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    """Record the failure for operators (simulated)."""
    return {"logged": True, "error": error, "data": data}


@step(name="fallback")
def fallback_operation(data: dict[str, Any]) -> dict[str, Any]:
    """Produce a degraded result from a secondary source (simulated)."""
    return {"source": "fallback", "value": data.get("value")}


@workflow("resilient-operation", tags=("demo", "error-handling"))
def resilient_operation(data: dict[str, Any]) -> dict[str, Any]:
    """Try a risky operation; if it fails, log the error and use a fallback."""
    try:
        result: dict[str, Any] = risky_operation(data)
    except StepFailed as failure:
        # `failure.error` is the journaled {"type", "message"} of the step's last attempt.
        # Catch StepFailed, not Exception: a broad except would also swallow the
        # NonDeterminismError a changed workflow raises on replay, and carry on regardless.
        log_error(failure.error, data)
        result = fallback_operation(data)
    return result
