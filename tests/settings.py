"""Settings for the test suite: its environment defaults, then the real settings.

The suite runs on the local PostgreSQL and Redis unless DATABASE_URL and REDIS_URL say
otherwise, on its own queue and channel prefix so that a Stepwise running beside it on the same
Redis never receives a test's task.
"""

import os

TEST_ENVIRONMENT_DEFAULTS = {
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/stepwise",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "STEPWISE_QUEUE": "stepwise-test",
    "STEPWISE_CHANNEL_PREFIX": "stepwise-test",
    "STEPWISE_HEARTBEAT_SECONDS": "1",
    "STEPWISE_WORKFLOW_MODULES": (
        "engine.demos,tests.engine.flows,tests.engine.trigger_flows,tests.engine.saga_flows,"
        "tests.engine.human_flows,tests.engine.machines.machine_flows,tests.engine.run_action_flows,"
        "tests.monitoring.timeline_flows,tests.engine.sensitive_flows,tests.engine.bulkhead_flows,"
        "tests.engine.resilience_flows"
    ),
    "STEPWISE_LEASE_SECONDS": "1",
    "STEPWISE_REDISPATCH_SECONDS": "5",
    # Failed logins count in the shared Redis for 15 minutes: a rerun of the suite must not
    # find itself throttled. The throttle's own tests set small limits on a cache of their own.
    "STEPWISE_LOGIN_FAILURE_LIMIT": "1000",
    "STEPWISE_LOGIN_FAILURE_LIMIT_PER_ADDRESS": "1000",
    # Small enough that the fan-out limit's test on a worker starts only this many children.
    "STEPWISE_MAX_CHILDREN_PER_RUN": "20",
    # The scale tests start 1,000 runs of one workflow in a minute; the rate limit's own tests
    # set it.
    "STEPWISE_MAX_RUNS_PER_MINUTE": "0",
    # Tests make runs that ended "days ago"; retention's own tests pass their own rules.
    "STEPWISE_RETENTION_DAYS": "0",
    # Playwright's sync API runs an event loop in the test thread; the tests' own database
    # calls are still synchronous and safe.
    "DJANGO_ALLOW_ASYNC_UNSAFE": "true",
}
for name, value in TEST_ENVIRONMENT_DEFAULTS.items():
    os.environ.setdefault(name, value)

# Under pytest-xdist each test process has its own database (pytest-django appends the worker
# to its name), and here its own queue and Redis prefix: its workers, timer loop and Daphne
# never take another process's tasks, channel messages or resilience state. The children
# inherit these through the environment.
_XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER")
if _XDIST_WORKER:
    for name in ("STEPWISE_QUEUE", "STEPWISE_CHANNEL_PREFIX"):
        if not os.environ[name].endswith(f"-{_XDIST_WORKER}"):
            os.environ[name] = f"{os.environ[name]}-{_XDIST_WORKER}"

from config.settings import *  # noqa: E402, F403
