"""The README's production layout as real processes: Daphne, two Celery workers, the timer loop.

All of them run the production settings on the private PostgreSQL and Redis of
`tests.chaos.cluster`, so the chaos test can kill them and restart the servers under them.
"""

import json
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

from celery import Celery

from tests.chaos.cluster import PrivatePostgres, PrivateRedis
from tests.processes import (
    PROJECT_ROOT,
    RunningProcess,
    daphne_args,
    free_port,
    health_answers,
    process_environment,
    start_process,
    wait_until,
    worker_args,
)

QUEUE = "stepwise-chaos-private"


def stack_environment(
    postgres: PrivatePostgres, redis: PrivateRedis, receiver_port: int, database: str
) -> dict[str, str]:
    """Production settings on the private servers; short lease and redispatch so that runs a
    killed worker held, or messages a restarted Redis lost, come back within seconds."""
    return process_environment(
        DATABASE_URL=postgres.url(database),
        REDIS_URL=redis.url(),
        STEPWISE_QUEUE=QUEUE,
        STEPWISE_CHANNEL_PREFIX=QUEUE,
        STEPWISE_HTTP_ALLOWLIST=f"127.0.0.1:{receiver_port}",
        STEPWISE_MAX_RUNS_PER_MINUTE="0",
        STEPWISE_LEASE_SECONDS="4",
        STEPWISE_REDISPATCH_SECONDS="3",
        STEPWISE_BRANCH_REDISPATCH_SECONDS="6",
        STEPWISE_HEARTBEAT_SECONDS="1",
        LOG_LEVEL="WARNING",
    )


class Stack:
    """Daphne, two workers and a timer loop; workers can be killed and replaced."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env = env
        self.logs = logs
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.workers: list[RunningProcess] = []
        self.others: list[RunningProcess] = []
        self.kills = 0

    def prepare(self) -> dict[str, str]:
        """Seed the (migrated) database; the API tokens by username."""
        done = subprocess.run(  # our own interpreter and module
            [sys.executable, "-m", "tests.chaos.seed"],
            cwd=PROJECT_ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise AssertionError(f"seeding failed:\n{done.stdout}\n{done.stderr}")
        tokens: dict[str, str] = json.loads(done.stdout.strip().splitlines()[-1])
        return tokens

    def start(self) -> None:
        daphne = start_process(
            "chaos-daphne",
            daphne_args(self.port),
            self.env,
            self.logs,
        )
        self.others.append(daphne)
        loop = start_process(
            "chaos-timer-loop",
            ["manage.py", "timer_loop", "--interval", "0.2"],
            self.env,
            self.logs,
        )
        self.others.append(loop)
        self.workers = [self.start_worker(), self.start_worker()]

        wait_until(
            health_answers(self.base_url),
            timeout=180,
            what="Daphne to answer /health",
            process=daphne,
        )
        wait_until(
            lambda: "running" in loop.log(), timeout=180, what="the timer loop", process=loop
        )
        # Not the current app: every later send of the test process goes through the current
        # one, and this broker dies with the stack.
        pinger = Celery(broker=self.env["REDIS_URL"], set_as_current=False)
        control = pinger.control
        for worker in self.workers:

            def pong(name: str = f"{worker.name}@localhost") -> bool:
                return bool(control.ping(destination=[name], timeout=0.5))

            wait_until(
                pong,
                timeout=180,
                what=f"worker {worker.name} to answer a ping",
                process=worker,
            )
        pinger.close()

    def start_worker(self) -> RunningProcess:
        name = f"chaos-{uuid.uuid4().hex[:6]}"
        return start_process(
            name,
            worker_args(QUEUE, hostname=f"{name}@localhost"),
            self.env,
            self.logs,
        )

    def kill_worker(self, index: int) -> None:
        """SIGKILL a worker's whole process group (master and pool children, mid-step) and
        start a replacement, as a supervisor would."""
        worker = self.workers[index]
        os.killpg(worker.process.pid, signal.SIGKILL)
        worker.process.wait(10)
        self.kills += 1
        self.workers[index] = self.start_worker()

    def stop(self) -> None:
        for process in [*self.workers, *self.others]:
            process.stop()

    def logs_tail(self, lines: int = 30) -> str:
        return "\n".join(
            f"--- {process.name}\n{process.log_tail(lines)}"
            for process in [*self.workers, *self.others]
        )
