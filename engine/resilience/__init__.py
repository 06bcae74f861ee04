"""Shared resilience: circuit breakers, keyed rate limits (and bulkheads), whose state every
worker process sees alike."""
