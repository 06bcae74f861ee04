"""Calling the world safely from a step: the address guard that keeps HTTP and AI calls off
private networks (netguard) and secrets referenced by name, never shown (secrets)."""
