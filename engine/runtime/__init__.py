"""Running workflows durably: a run's lifecycle (runs), its journal in the database (store),
the advancer that replays it under a lease (runner), timers and the sweepers that fire them,
debounce, the cache of workflow outputs, resolving a slug to its definition, worker
heartbeats and the embedded worker of `make run`."""
