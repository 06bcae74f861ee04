"""What running and replaying steps read of a step, a deferred call and a workflow.

engine.core.definitions declares steps and workflows, and its steps call into the running
replay; the replay machine and the attempt runner read them by these shapes instead of
importing it, so the imports point one way.
"""

from collections.abc import Callable
from typing import Any, Protocol

from engine.core.bulkheads import Bulkhead
from engine.core.resilience import BreakerSpec, RateLimitSpec
from engine.core.retry import Retry


class AttemptedStep(Protocol):
    """What running one attempt reads of a step."""

    @property
    def key(self) -> str: ...

    @property
    def fn(self) -> Callable[..., Any]: ...

    @property
    def timeout(self) -> float | None: ...

    @property
    def circuit_breaker(self) -> BreakerSpec | None: ...

    @property
    def rate_limit(self) -> RateLimitSpec | None: ...


class ReplayedStep(AttemptedStep, Protocol):
    """What replaying a step reads of it, besides running its attempts."""

    @property
    def name(self) -> str: ...

    @property
    def retry(self) -> Retry: ...

    @property
    def cache_ttl(self) -> float | None: ...

    @property
    def bulkhead(self) -> Bulkhead | None: ...


class ReplayedCall(Protocol):
    """A deferred step call, as parallel() reads it."""

    @property
    def step(self) -> ReplayedStep: ...

    @property
    def args(self) -> list[Any]: ...

    @property
    def kwargs(self) -> dict[str, Any]: ...


class WorkflowDefaults(Protocol):
    """What a running workflow's definition lends the waits in it."""

    @property
    def calendar(self) -> dict[str, Any] | None: ...
