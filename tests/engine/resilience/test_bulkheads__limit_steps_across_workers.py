"""A bulkhead lets at most N steps use its resource at once across two worker processes and
every run; the others wait in a row of their own (their run holds no worker) and start when a
slot frees; `with bulkhead(...)` and parallel steps obey it too."""

import time
from pathlib import Path

import pytest

from engine.models import BulkheadSlot, Run, SlotState
from engine.runtime.runs import start_run
from tests.engine.graph.local_server import LocalServer, RecordedRequest, Reply
from tests.engine.runtime.test_durability__crash_and_scale import kill_hard, start_worker
from tests.processes import RunningProcess, wait_until

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(240),
]


def all_end(runs: list[Run], timeout: float = 60) -> list[Run]:
    ids = [run.pk for run in runs]
    wait_until(
        lambda: Run.objects.filter(pk__in=ids, status="completed").count() == len(ids),
        timeout=timeout,
        what=f"runs {ids} to complete",
    )
    return list(Run.objects.filter(pk__in=ids))


def test_at_most_two_in_flight_across_two_workers_and_waiters_hold_no_worker(
    two_workers: list[RunningProcess], timer_loop: RunningProcess, worker_server: LocalServer
) -> None:
    worker_server.route("POST", "/bulkhead/calls", Reply(200, {"ok": True}, delay=0.4))
    url = worker_server.url("/bulkhead/calls")
    runs = [start_run("test-bulkhead-call", {"url": url, "label": f"c{n}"}) for n in range(8)]

    def a_waiter_holds_nothing() -> bool:
        waiting = BulkheadSlot.objects.filter(
            bulkhead__name="test-receiver", state=SlotState.WAITING, branch=0
        ).values_list("run_id", flat=True)
        return Run.objects.filter(pk__in=list(waiting), status="waiting", lease_owner="").exists()

    wait_until(a_waiter_holds_nothing, timeout=30, what="a run waiting at the bulkhead")
    all_end(runs)
    received = worker_server.requests_to("/bulkhead/calls")
    assert sorted(request.json()["label"] for request in received) == [f"c{n}" for n in range(8)]
    assert worker_server.most_in_flight("/bulkhead/calls") == 2
    assert len({request.json()["worker"] for request in received}) == 2  # both processes ran steps
    assert not BulkheadSlot.objects.filter(bulkhead__name="test-receiver").exists()


def test_parallel_steps_and_a_scoped_block_obey_their_bulkheads(
    two_workers: list[RunningProcess], worker_server: LocalServer
) -> None:
    worker_server.route("POST", "/bulkhead/branches", Reply(200, {"ok": True}, delay=0.3))
    worker_server.route("POST", "/bulkhead/scoped", Reply(200, {"ok": True}, delay=0.3))
    branches = worker_server.url("/bulkhead/branches")
    scoped = worker_server.url("/bulkhead/scoped")
    runs = [
        start_run("test-bulkhead-branches", {"url": branches, "label": f"b{n}"}) for n in (1, 2)
    ]
    runs += [
        start_run("test-bulkhead-scoped", {"url": scoped, "label": f"s{n}"}) for n in (1, 2, 3)
    ]
    all_end(runs)
    assert len(worker_server.requests_to("/bulkhead/branches")) == 8
    assert worker_server.most_in_flight("/bulkhead/branches") == 2
    assert len(worker_server.requests_to("/bulkhead/scoped")) == 6
    assert worker_server.most_in_flight("/bulkhead/scoped") == 1


def test_a_killed_workers_slot_is_released_by_its_lease(
    two_workers: list[RunningProcess],
    stepwise_env: dict[str, str],
    process_logs: Path,
    timer_loop: RunningProcess,
    worker_server: LocalServer,
) -> None:
    first = {"held": False}

    def hostage_then_quick(request: RecordedRequest) -> Reply:
        # The first call never gets its answer in time: its worker is killed meanwhile.
        if not first["held"]:
            first["held"] = True
            return Reply(200, {"ok": True}, delay=60)
        return Reply(200, {"ok": True}, delay=0.1)

    worker_server.route("POST", "/bulkhead/held", hostage_then_quick)
    url = worker_server.url("/bulkhead/held")
    holder = start_run("test-bulkhead-held", {"url": url, "label": "holder"})
    wait_until(
        lambda: len(worker_server.requests_to("/bulkhead/held")) == 1,
        timeout=30,
        what="the holder's call",
    )
    waiter = start_run("test-bulkhead-held", {"url": url, "label": "waiter"})
    wait_until(
        lambda: BulkheadSlot.objects.filter(run=waiter, state=SlotState.WAITING).exists(),
        timeout=30,
        what="the second run to queue at the bulkhead",
    )
    # The worker process whose child holds the slot dies with it, mid-call.
    holding_pid = worker_server.requests_to("/bulkhead/held")[0].json()["worker"]
    doomed = next(worker for worker in two_workers if worker.process.pid == holding_pid)
    killed_at = time.monotonic()
    kill_hard(doomed)
    two_workers[two_workers.index(doomed)] = start_worker(stepwise_env, process_logs, concurrency=2)
    all_end([holder, waiter], timeout=90)
    labels = [request.json()["label"] for request in worker_server.requests_to("/bulkhead/held")]
    # The dead holder's slot did not keep the waiter out: either its lease lapsed and the waiter
    # took it, or the holder's redelivered message came first and took back its own slot; its
    # step ran again either way.
    assert labels[0] == "holder"
    assert sorted(labels[1:]) == ["holder", "waiter"]
    assert time.monotonic() - killed_at < 60  # long before the hostage call would have ended
    assert not BulkheadSlot.objects.filter(bulkhead__name="test-held").exists()
