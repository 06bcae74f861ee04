"""The signal a breaker or rate limit sends when its shared state changed; monitoring listens."""

from django.dispatch import Signal

resilience_changed = Signal()
"""kind ("breaker" or "rate_limit"), name: its state changed (sent after the change is stored)."""
