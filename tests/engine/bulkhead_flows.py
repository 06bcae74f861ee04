"""Code workflows for the bulkhead, priority and cap tests: each step calls the test receiver
(tests/engine/graph/local_server.py), which counts how many calls it answers at once."""

import os
from typing import Any

import httpx

from engine.core import Bulkhead, bulkhead, current_step, parallel, step, workflow


def _post(url: str, label: str) -> str:
    info = current_step()
    body = {"label": label, "worker": os.getppid(), "run": info.run_id if info else 0}
    httpx.post(url, json=body, timeout=120).raise_for_status()
    return label


@step(bulkhead=Bulkhead("test-receiver", max_concurrent=2))
def call_through_bulkhead(url: str, label: str) -> str:
    return _post(url, label)


@step(bulkhead=Bulkhead("test-held", max_concurrent=1))
def call_holding_one(url: str, label: str) -> str:
    return _post(url, label)


@step
def call(url: str, label: str) -> str:
    return _post(url, label)


@workflow("test-bulkhead-call")
def bulkhead_call(input: dict[str, Any]) -> str:
    return call_through_bulkhead(input["url"], input["label"])


@workflow("test-bulkhead-branches")
def bulkhead_branches(input: dict[str, Any]) -> list[Any]:
    calls = [call_through_bulkhead.call(input["url"], f"{input['label']}-{n}") for n in range(4)]
    return parallel(calls)


@workflow("test-bulkhead-held")
def bulkhead_held(input: dict[str, Any]) -> str:
    return call_holding_one(input["url"], input["label"])


@workflow("test-bulkhead-scoped")
def bulkhead_scoped(input: dict[str, Any]) -> list[str]:
    with bulkhead("test-scoped", max_concurrent=1):
        return [call(input["url"], f"{input['label']}-{n}") for n in range(2)]


@workflow("test-parallel-limit")
def parallel_limit(input: dict[str, Any]) -> list[Any]:
    calls = [call.call(input["url"], str(n)) for n in range(input["count"])]
    return parallel(calls, concurrency=input["concurrency"])


@workflow("test-capped-one", max_active=1)
def capped_one(input: dict[str, Any]) -> str:
    return call(input["url"], input["label"])


@workflow("test-flood", max_active=2)
def flood(input: dict[str, Any]) -> str:
    return call(input["url"], input["label"])


@workflow("test-per-customer", max_active=1, concurrency_key="customer")
def per_customer(input: dict[str, Any]) -> str:
    return call(input["url"], input["label"])


@workflow("test-uncapped")
def uncapped(input: dict[str, Any]) -> str:
    return call(input["url"], input["label"])
