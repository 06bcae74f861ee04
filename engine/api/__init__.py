"""The engine's JSON API: runs, events and probes (runs), re-runs and forks (run_actions),
people's tasks (tasks), webhook endpoints (webhooks), state machine instances (machines).
config/api.py mounts the router at /api/."""

from ninja import Router

from engine.api import machines, run_actions, runs, tasks, webhooks

router = Router()
for part in (runs.router, run_actions.router, webhooks.router, tasks.router, machines.router):
    router.add_router("", part)
