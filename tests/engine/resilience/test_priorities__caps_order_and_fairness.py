"""Workflow caps hold runs beyond the cap in the database (pending, never sent to a worker)
and let them in by priority, then age, as admitted runs end; a flood of one workflow queues
behind its own cap while another workflow's run goes straight through, and a cap per key
(customer) holds one customer's flood without delaying another customer."""

import pytest
from django.db import transaction

from engine.models import Run
from engine.runtime.runs import create_run, start_run
from tests.engine.graph.local_server import LocalServer, RecordedRequest, Reply
from tests.processes import RunningProcess, wait_until

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(240),
]


def completed(*runs: Run) -> bool:
    ids = [run.pk for run in runs]
    return Run.objects.filter(pk__in=ids, status="completed").count() == len(ids)


def labels(server: LocalServer, path: str) -> list[str]:
    return [request.json()["label"] for request in server.requests_to(path)]


def test_held_runs_start_by_priority_then_age(
    two_workers: list[RunningProcess], worker_server: LocalServer
) -> None:
    first = {"seen": False}

    def slow_first(request: RecordedRequest) -> Reply:
        delay = 0.05 if first["seen"] else 1.5
        first["seen"] = True
        return Reply(200, {"ok": True}, delay=delay)

    worker_server.route("POST", "/caps/order", slow_first)
    url = worker_server.url("/caps/order")
    blocker = start_run("test-capped-one", {"url": url, "label": "blocker"})
    wait_until(
        lambda: labels(worker_server, "/caps/order") == ["blocker"], timeout=30, what="the blocker"
    )
    with transaction.atomic():
        queued = [
            create_run("test-capped-one", {"url": url, "label": label}, priority=priority)
            for label, priority in [("low", -5), ("high", 10), ("middle", 0), ("middle-later", 0)]
        ]
    held = Run.objects.filter(pk__in=[run.pk for run in queued])
    assert set(held.values_list("status", "admission", "dispatched_at")) == {
        ("pending", "held", None)
    }
    wait_until(lambda: completed(blocker, *queued), timeout=60, what="every capped run")
    assert labels(worker_server, "/caps/order") == [
        "blocker",
        "high",
        "middle",
        "middle-later",
        "low",
    ]
    assert worker_server.most_in_flight("/caps/order") == 1


def test_a_flood_of_one_workflow_does_not_starve_another(
    two_workers: list[RunningProcess], worker_server: LocalServer
) -> None:
    worker_server.route("POST", "/caps/flood", Reply(200, {"ok": True}, delay=0.4))
    worker_server.route("POST", "/caps/other", Reply(200, {"ok": True}))
    flood_url = worker_server.url("/caps/flood")
    flood = [start_run("test-flood", {"url": flood_url, "label": f"f{n}"}) for n in range(12)]
    other = start_run("test-uncapped", {"url": worker_server.url("/caps/other"), "label": "other"})
    wait_until(lambda: completed(other), timeout=30, what="the other workflow's run")
    ended = Run.objects.filter(pk__in=[run.pk for run in flood], status="completed").count()
    assert ended <= 6, f"the other run waited for {ended} of the flood's 12 runs"
    wait_until(lambda: completed(*flood), timeout=90, what="the flood")
    assert worker_server.most_in_flight("/caps/flood") == 2


def test_a_cap_per_key_holds_one_customer_not_another(
    two_workers: list[RunningProcess], worker_server: LocalServer
) -> None:
    worker_server.route("POST", "/caps/a", Reply(200, {"ok": True}, delay=0.4))
    worker_server.route("POST", "/caps/b", Reply(200, {"ok": True}))
    a_url = worker_server.url("/caps/a")
    a_runs = [
        start_run("test-per-customer", {"url": a_url, "label": f"a{n}", "customer": "a"})
        for n in range(5)
    ]
    b_run = start_run(
        "test-per-customer", {"url": worker_server.url("/caps/b"), "label": "b", "customer": "b"}
    )
    assert (b_run.admission, b_run.concurrency_key) == ("admitted", "b")
    wait_until(lambda: completed(b_run), timeout=30, what="customer b's run")
    assert len(worker_server.requests_to("/caps/a")) <= 2
    wait_until(lambda: completed(*a_runs), timeout=90, what="customer a's runs")
    assert labels(worker_server, "/caps/a") == [f"a{n}" for n in range(5)]
    assert worker_server.most_in_flight("/caps/a") == 1
