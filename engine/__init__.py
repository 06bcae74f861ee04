"""Stepwise's engine: it owns published definitions, runs, their journal, timers and workers.

The folders are the rooms, lowest first; a room imports only the rooms before it
(tests/architecture pins this):

- core: plain Python, no Django: the authoring API, replay, retry, CEL, cron, the test harness.
- models: the tables.
- messaging: messages to workers by task name (dispatch) and signals to listeners.
- outbound: calling the world from a step safely (address guard, secrets by name).
- human: people's tasks and decisions (four-eyes, claims, delegation, audit, mails).
- runtime: a run's lifecycle (runs), its journal (store), the advancer under a lease
  (runner), the event mailbox of waiting runs, timers and sweepers, debounce, resolving.
- inbound: what starts and wakes runs from outside: events, triggers, webhooks, schedules.
- graph: the graph format, validation, node types (one module per family, each declaring
  its own behaviour), the compiled program and its interpreter, publishing.
- machines: state machines: validation, publishing, instances and the events applied to them.
- demos: the demo workflows, written as any author would.

The doors call into the rooms and nothing calls back into them: admin, api, tasks (the
Celery tasks), views (webhook receipt), apps (start-up wiring), management commands.
"""
