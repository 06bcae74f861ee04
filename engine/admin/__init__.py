"""The engine's tables in the Django admin, one module per room.

Django's admin autodiscovery imports this package; importing each module here registers its
ModelAdmins.
"""

from engine.admin import (
    breakers,
    bulkheads,
    events,
    graphs,
    machines,
    processes,
    rollups,
    runs,
    schedules,
    secrets,
    tasks,
    webhooks,
)

__all__ = [
    "breakers",
    "bulkheads",
    "events",
    "graphs",
    "machines",
    "processes",
    "rollups",
    "runs",
    "schedules",
    "secrets",
    "tasks",
    "webhooks",
]
