"""Shared resilience: circuit breakers, keyed rate limits, bulkheads, run priorities and
workflow caps, whose state every worker process sees alike."""
