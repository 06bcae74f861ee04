"""Kinds of step errors that a retry policy can name without knowing their classes.

A graph node's `retry.non_retryable` lists kinds, since a designer picks from what nodes raise,
not from Python classes. An error class says its kind in an `error_kind` attribute (an
instance may narrow it); anything that says none is "other".
"""

from collections.abc import Iterable

ERROR_KINDS: dict[str, str] = {
    "server_error": "Temporary failure answers (HTTP 5xx, 408, 429; mail server 4xx)",
    "connection": "No connection (refused, reset, host not found)",
    "timeout": "Timeouts (the node's own or its request's)",
    "circuit_open": "An open circuit breaker",
    "rate_limited": "A used-up rate limit that fails the attempt",
    "invalid_answer": "An answer that does not fit (an AI model's output)",
    "other": "Any other error (e.g. raised by a Python action)",
}
"""Each kind with the words the canvas shows for it; errors that are never retried (a 4xx
answer, a bad config, a refused address) have no kind to pick."""


def error_kind(error: BaseException) -> str:
    """The kind of a step's error: what it declares, else what a built-in error means."""
    declared = getattr(error, "error_kind", None)
    if isinstance(declared, str) and declared in ERROR_KINDS:
        return declared
    if isinstance(error, TimeoutError):
        return "timeout"
    if isinstance(error, ConnectionError):
        return "connection"
    return "other"


def unknown_kinds(kinds: Iterable[object]) -> list[object]:
    """The entries of `kinds` that name no kind."""
    return [kind for kind in kinds if not (isinstance(kind, str) and kind in ERROR_KINDS)]
