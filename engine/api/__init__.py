"""The engine's JSON API: runs, events and probes (runs), people's tasks (tasks), webhook
endpoints (webhooks), state machine instances (machines), secret grants (secrets).
config/api.py mounts the router at /api/."""

from ninja import Router

from engine.api import machines, runs, secrets, tasks, webhooks

router = Router()
for part in (runs.router, webhooks.router, tasks.router, machines.router, secrets.router):
    router.add_router("", part)
