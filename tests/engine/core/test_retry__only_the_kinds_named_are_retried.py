"""`Retry(retry_on_kinds=...)` retries only errors of the kinds it names and fails any other
at once; errors that say retrying cannot help stay unretried, a rate limit's deferral is still
waited for, and a str, an unknown kind or both lists of kinds fail at declaration."""

import pytest

from engine.core import Retry
from engine.core.errors import (
    CircuitOpen,
    DefinitionError,
    NonRetryableError,
    RateLimited,
    StepTimeout,
)


class Declined(NonRetryableError):
    """Retrying cannot help, whatever kinds a policy names."""


def test_only_the_named_kinds_are_retried() -> None:
    policy = Retry(max_attempts=3, retry_on_kinds=frozenset({"timeout", "connection"}))
    assert policy.should_retry(StepTimeout("slow"), 1)
    assert policy.should_retry(TimeoutError(), 2)
    assert policy.should_retry(ConnectionResetError("reset"), 1)
    assert not policy.should_retry(StepTimeout("slow"), 3)  # attempts still run out
    assert not policy.should_retry(RuntimeError("bug"), 1)  # "other" is not named
    assert not policy.should_retry(CircuitOpen("crm", 5.0), 1)


def test_other_retries_plain_errors_but_never_a_non_retryable_one() -> None:
    policy = Retry(max_attempts=3, retry_on_kinds=frozenset({"other"}))
    assert policy.should_retry(RuntimeError("bug"), 1)
    assert not policy.should_retry(Declined("card declined"), 1)
    assert not policy.should_retry(StepTimeout("slow"), 1)


def test_nothing_named_is_no_restriction_and_a_deferral_is_always_waited_for() -> None:
    assert Retry(max_attempts=3).should_retry(RuntimeError("bug"), 1)
    policy = Retry(max_attempts=3, retry_on_kinds=frozenset({"timeout"}))
    assert policy.should_retry(RateLimited("crm", "", 5.0, defers=True), 1)
    assert not policy.should_retry(RateLimited("crm", "", 5.0, defers=False), 1)


def test_a_wrong_declaration_fails_at_once() -> None:
    policy = Retry(retry_on_kinds={"timeout"})  # type: ignore[arg-type]
    assert policy.retry_on_kinds == frozenset({"timeout"}) and hash(policy)
    with pytest.raises(DefinitionError, match=r"Retry\.retry_on_kinds: no error kind 'teapot'"):
        Retry(retry_on_kinds=frozenset({"timeout", "teapot"}))
    with pytest.raises(DefinitionError, match="retry_on_kinds takes a set of error kinds"):
        Retry(retry_on_kinds="timeout")  # type: ignore[arg-type]
    with pytest.raises(DefinitionError, match="either retry_on_kinds or non_retryable_kinds"):
        Retry(retry_on_kinds=frozenset({"timeout"}), non_retryable_kinds=frozenset({"other"}))
