"""A failed step can be caught: the error is logged and a fallback produces the result."""

from engine.core.testing import WorkflowTester
from engine.demos import error_handling


def test_a_failure_is_logged_and_the_fallback_used() -> None:
    """When risky-operation fails, log-error gets its error and fallback's result is returned."""
    tester = WorkflowTester()

    run = tester.run(error_handling.resilient_operation, {"fail": True, "value": 3})

    assert run.status == "completed"
    assert run.output == {"source": "fallback", "value": 3}
    assert run.steps == [
        ("risky-operation", "failed", 1),
        ("log-error", "completed", 1),
        ("fallback", "completed", 1),
    ]
    logged_error = tester.call_args(error_handling.log_error)[0][0][0]
    assert logged_error == {"type": "ConnectionError", "message": "the service is unreachable"}


def test_without_a_failure_there_is_no_fallback() -> None:
    """A successful risky-operation is the result; neither log-error nor fallback runs."""
    tester = WorkflowTester()

    run = tester.run(error_handling.resilient_operation, {"value": 3})

    assert run.output == {"source": "primary", "value": 3}
    assert tester.calls(error_handling.log_error) == 0
    assert tester.calls(error_handling.fallback_operation) == 0
