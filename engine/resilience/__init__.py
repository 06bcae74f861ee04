"""Shared limits on how much runs at once: bulkheads, priorities and workflow caps."""
