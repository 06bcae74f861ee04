"""The chaos scenario: many graph runs while workers die and Redis and PostgreSQL restart.

`run_chaos(plan, logs, template_url)` builds the private cluster and the production stack, starts
`plan.runs` runs of the seeded workflow through the API, decides their approvals through the
API, and meanwhile injects the faults, each when a share of the work is done (so they land while
runs are under way, whatever the machine's speed). Then it checks the world, not the statuses:
the receiver's requests, the records table, the tasks and their decisions, and returns the
figures. The suite runs it small, `bench/chaos.py` at full size.
"""

import random
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import psycopg

from tests.chaos.cluster import PrivatePostgres, PrivateRedis
from tests.chaos.seed import APPROVER, COLLECTION, HTTP_STEPS, STARTER, WORKFLOW
from tests.chaos.stack import Stack, stack_environment
from tests.engine.graph.local_server import LocalServer, Reply

DATABASE = "stepwise_chaos"


@dataclass(frozen=True)
class Plan:
    runs: int
    kills: int
    redis_restarts: int = 1
    postgres_restarts: int = 1
    downtime: float = 2.0
    settle_timeout: float = 120.0
    seed: int = 2026

    @property
    def faults(self) -> list[str]:
        return (
            ["kill"] * self.kills
            + ["redis"] * self.redis_restarts
            + ["postgres"] * self.postgres_restarts
        )


@dataclass
class Figures:
    runs: int = 0
    completed: int = 0
    kills: int = 0
    redis_restarts: int = 0
    postgres_restarts: int = 0
    effects: int = 0
    """Requests the receiver got (a step retried after a kill sends its key again)."""
    effect_keys: int = 0
    repeated_deliveries: int = 0
    duplicates: int = 0
    """Steps seen under two keys, records created twice, tasks decided twice: must be 0."""
    approvals: int = 0
    lost_approvals: int = 0
    server_errors: int = 0
    """API answers of 500 and above except 503 (the outage answer that asks to retry)."""
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)

    def line(self) -> str:
        return (
            f"chaos: {self.runs} runs, {self.completed} completed, {self.kills} kills, "
            f"{self.redis_restarts} Redis restarts, {self.postgres_restarts} PostgreSQL "
            f"restarts, {self.effects} effects under {self.effect_keys} keys "
            f"({self.repeated_deliveries} repeated deliveries), {self.duplicates} duplicates, "
            f"{self.approvals} approvals, {self.lost_approvals} lost, "
            f"{self.server_errors} API server errors, in {self.seconds:.1f}s"
        )


class Api:
    """The stack's JSON API as one user; calls that meet an outage are tried again."""

    def __init__(self, base_url: str, token: str) -> None:
        self.client = httpx.Client(
            base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=10
        )
        self.server_errors: list[str] = []
        """Answers of 500 and above other than 503 (which an outage may give, asking to retry)."""

    def call(self, method: str, path: str, body: Any = None) -> httpx.Response | None:
        try:
            response = self.client.request(method, path, json=body)
        except httpx.HTTPError:
            return None
        if response.status_code >= 500 and response.status_code != 503:
            self.server_errors.append(f"{method} {path}: {response.status_code}")
        return response


def _until_answered(call: Callable[[], httpx.Response | None], ok: set[int]) -> httpx.Response:
    """Call until the answer is one of `ok` (an outage gives errors or 5xx meanwhile)."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        response = call()
        if response is not None and response.status_code in ok:
            return response
        time.sleep(0.2)
    raise AssertionError(f"no answer in {ok} for 120s: {response and response.text}")


class Chaos:
    """One scenario: the services, the stack, the receiver and the people using the API."""

    def __init__(self, plan: Plan, logs: Path, template_url: str) -> None:
        self.plan = plan
        self.template_url = template_url
        self.logs = logs
        self.rng = random.Random(plan.seed)
        self.postgres = PrivatePostgres()
        self.redis = PrivateRedis()
        self.receiver = LocalServer()
        for step in HTTP_STEPS:
            self.receiver.route("POST", f"/effects/{step}", Reply(200, {"ok": True}))
        self.stack: Stack | None = None
        self.stop = threading.Event()
        self.acknowledged: set[int] = set()
        self.errors: list[str] = []

    # --- the people ---------------------------------------------------------------------------
    def submit(self, api: Api) -> None:
        receiver = self.receiver.url().rstrip("/")
        for n in range(self.plan.runs):
            if self.stop.is_set():
                return
            # The same idempotency key on every attempt: a start whose answer was lost in an
            # outage is found again, never started twice.
            body = {"input": {"n": n, "receiver": receiver}, "idempotency_key": f"chaos-{n}"}
            _until_answered(
                partial(api.call, "POST", f"/api/workflows/{WORKFLOW}/runs", body), {200, 201}
            )

    def approve(self, api: Api) -> None:
        while not self.stop.is_set():
            listing = api.call("GET", "/api/tasks?status=open&limit=100")
            if listing is None or listing.status_code != 200:
                time.sleep(0.2)
                continue
            for task in listing.json():
                answer = api.call(
                    "POST", f"/api/tasks/{task['id']}/decide", {"decision": "approved"}
                )
                if answer is not None and answer.status_code == 200:
                    self.acknowledged.add(task["id"])
            time.sleep(0.1)

    # --- the faults ---------------------------------------------------------------------------
    def progress(self) -> float:
        done = sum(len(self.receiver.requests_to(f"/effects/{step}")) for step in HTTP_STEPS)
        return done / (len(HTTP_STEPS) * self.plan.runs)

    def inject(self) -> None:
        assert self.stack is not None
        faults = self.plan.faults
        self.rng.shuffle(faults)
        for index, fault in enumerate(faults):
            threshold = (index + 1) / (len(faults) + 1)
            while self.progress() < threshold:
                if self.stop.wait(0.05):
                    return
            time.sleep(self.rng.uniform(0, 0.3))
            if fault == "kill":
                self.stack.kill_worker(self.rng.randrange(len(self.stack.workers)))
            elif fault == "redis":
                self.redis.restart(downtime=self.plan.downtime / 2)
            else:
                self.postgres.restart(downtime=self.plan.downtime)
            print(f"chaos: {fault} at {self.progress():.0%} of the effects", flush=True)

    # --- the world ----------------------------------------------------------------------------
    def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.postgres.url(DATABASE), connect_timeout=3) as connection:
            return connection.execute(sql, params).fetchall()

    def statuses(self) -> Counter[str]:
        try:
            rows = self.query(
                "SELECT status, count(*) FROM engine_run WHERE workflow = %s GROUP BY status",
                WORKFLOW,
            )
        except psycopg.OperationalError:
            return Counter()
        return Counter(dict(rows))

    def settle(self, submitter: threading.Thread) -> None:
        deadline = time.monotonic() + self.plan.settle_timeout
        while time.monotonic() < deadline:
            if not submitter.is_alive() and self.statuses()["completed"] == self.plan.runs:
                return
            time.sleep(0.5)
        assert self.stack is not None
        stuck = self.query(
            "SELECT id, status, lease_owner FROM engine_run WHERE workflow = %s "
            "AND status <> 'completed' ORDER BY id LIMIT 10",
            WORKFLOW,
        )
        raise AssertionError(
            f"runs did not all complete within {self.plan.settle_timeout}s: "
            f"{dict(self.statuses())}; first unfinished: {stuck}\n{self.stack.logs_tail()}"
        )

    def check(self, figures: Figures) -> None:
        """Every run ended as it should, every effect under one key, nothing twice, nothing lost."""
        runs = self.query(
            "SELECT id, status, (input->>'n')::int, output FROM engine_run WHERE workflow = %s",
            WORKFLOW,
        )
        figures.runs = len(runs)
        figures.completed = sum(1 for _, status, _, _ in runs if status == "completed")
        by_n = {n: (run_id, output) for run_id, _, n, output in runs}
        for run_id, status, n, output in runs:
            expected = {"n": n, "approved_by": APPROVER}
            if status != "completed" or {k: output.get(k) for k in expected} != expected:
                figures.problems.append(f"run {run_id} (n={n}) ended {status} with {output}")
        if sorted(by_n) != list(range(self.plan.runs)):
            figures.problems.append(f"{len(runs)} runs for {self.plan.runs} starts")

        for step in HTTP_STEPS:
            keys: dict[int, set[str]] = defaultdict(set)
            requests = self.receiver.requests_to(f"/effects/{step}")
            figures.effects += len(requests)
            for request in requests:
                keys[request.json()["n"]].add(request.headers.get("idempotency-key", ""))
            figures.effect_keys += sum(len(found) for found in keys.values())
            figures.repeated_deliveries += len(requests) - sum(len(k) for k in keys.values())
            for n in range(self.plan.runs):
                found = keys.get(n, set())
                run_id = by_n.get(n, (None, None))[0]
                if len(found) != 1 or not next(iter(found)).startswith(f"stepwise:{run_id}:"):
                    figures.problems.append(f"{step} of n={n} (run {run_id}) came with {found}")
                figures.duplicates += max(0, len(found) - 1)

        records = self.query(
            "SELECT (data->>'n')::int, count(*) FROM engine_record WHERE collection = %s "
            "GROUP BY 1",
            COLLECTION,
        )
        created = dict(records)
        figures.duplicates += sum(count - 1 for count in created.values() if count > 1)
        if created != dict.fromkeys(range(self.plan.runs), 1):
            figures.problems.append(f"records per n: {sorted(created.items())[:10]}…")

        tasks = self.query(
            "SELECT t.id, t.status, count(d.id), min(u.username) FROM engine_humantask t "
            "JOIN engine_run r ON r.id = t.run_id LEFT JOIN engine_taskdecision d "
            "ON d.task_id = t.id LEFT JOIN auth_user u ON u.id = d.user_id "
            "WHERE r.workflow = %s GROUP BY t.id, t.status",
            WORKFLOW,
        )
        figures.approvals = len(self.acknowledged)
        decided = {task_id: (status, count, user) for task_id, status, count, user in tasks}
        figures.duplicates += sum(count - 1 for _, count, _ in decided.values() if count > 1)
        for task_id in self.acknowledged:
            status, _, user = decided.get(task_id, ("missing", 0, None))
            if (status, user) != ("approved", APPROVER):
                figures.lost_approvals += 1
        if len(tasks) != self.plan.runs or any(s != "approved" for s, _, _ in decided.values()):
            figures.problems.append(
                f"{len(tasks)} tasks: {Counter(s for s, _, _ in decided.values())}"
            )

    def run(self) -> Figures:
        figures = Figures()
        began = time.monotonic()
        self.receiver.__enter__()
        try:
            self.postgres.start()
            self.postgres.copy_database(self.template_url, DATABASE)
            self.redis.start()
            env = stack_environment(self.postgres, self.redis, self.receiver.port, DATABASE)
            self.stack = Stack(env, self.logs)
            tokens = self.stack.prepare()
            self.stack.start()
            began = time.monotonic()
            starter = Api(self.stack.base_url, tokens[STARTER])
            approver = Api(self.stack.base_url, tokens[APPROVER])
            submitter = threading.Thread(target=self.submit, args=(starter,))
            people = [
                submitter,
                threading.Thread(target=self.approve, args=(approver,)),
                threading.Thread(target=self.inject),
            ]
            for thread in people:
                thread.start()
            try:
                self.settle(submitter)
            finally:
                self.stop.set()
                for thread in people:
                    thread.join(130)
            figures.seconds = time.monotonic() - began
            figures.kills = self.stack.kills
            figures.redis_restarts = self.redis.restarts
            figures.postgres_restarts = self.postgres.restarts
            errors = starter.server_errors + approver.server_errors
            figures.server_errors = len(errors)
            figures.problems += [f"API answered {error}" for error in errors[:5]]
            self.check(figures)
            return figures
        finally:
            if self.stack is not None:
                self.stack.stop()
            self.receiver.close()
            self.redis.remove()
            self.postgres.remove()


def run_chaos(plan: Plan, logs: Path, template_url: str) -> Figures:
    """Run the scenario on a copy of the migrated database at `template_url`."""
    logs.mkdir(parents=True, exist_ok=True)
    figures = Chaos(plan, logs, template_url).run()
    print(figures.line(), flush=True)
    return figures
