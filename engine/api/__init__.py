"""The engine's JSON API: runs, events and probes (runs), re-runs and forks (run_actions),
finding runs and changing many at once (run_lists), people's tasks (tasks), webhook endpoints
(webhooks), state machine instances (machines), secret grants (secrets), circuit breakers
and rate limits (resilience). config/api.py mounts the router at /api/."""

from ninja import Router

from engine.api import (
    machines,
    resilience,
    run_actions,
    run_lists,
    runs,
    secrets,
    tasks,
    webhooks,
)

router = Router()
# run_lists first: its /runs/bulk-cancel must win over /runs/{run_id}.
for part in (
    run_lists.router,
    runs.router,
    run_actions.router,
    webhooks.router,
    tasks.router,
    machines.router,
    secrets.router,
    resilience.router,
):
    router.add_router("", part)
