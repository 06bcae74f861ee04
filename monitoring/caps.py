"""The monitor's workflow caps section: each cap's usage (engine.resilience.cap_usage)."""

from engine.resilience.cap_usage import cap_usage


def caps_context() -> dict[str, object]:
    """What templates/monitoring/resilience_caps.html renders."""
    return {"caps": cap_usage()}
