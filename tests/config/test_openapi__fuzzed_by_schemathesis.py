"""Schemathesis over every operation of the OpenAPI schema, against a real Daphne on PostgreSQL
with a real Celery worker: as a viewer and as an administrator, with valid and invalid data, and
with path parameters that name seeded objects (a published workflow with a run waiting on a task,
a machine instance, a webhook, a delegation, a worker probe) as often as made-up ones.

Every answer must be below 500, of the documented content type and, where documented, of the
documented schema; every 4xx about the request must name the field it is about (see
`names_the_field`). All failures are collected and reported together, one per operation.

`STEPWISE_FUZZ_EXAMPLES` sets the examples per operation and mode (default 4; a quarter of it
as the viewer, who is mostly refused);
README "Fuzzing the API" shows a large run."""

import itertools
import json
import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from typing import Any

import httpx
import hypothesis
import pytest
import schemathesis
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import DatabaseError
from django.utils import timezone
from hypothesis import HealthCheck, Phase
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

from accounts.demo import ensure_demo_users
from accounts.models import ApiToken
from designer.demo_graphs import load_demo_graphs
from designer.demo_machines import load_demo_machines
from engine.models import HumanTask, StepRecord

# The mark only makes pytest-django create the test database: the seed is committed by the
# module's fixture (Daphne and the worker must see it) and flushed when the module ends.
pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db,
    pytest.mark.usefixtures("celery_worker"),
    # Seeding waits for a worker to open a task; the fuzzing itself stays near a minute.
    pytest.mark.timeout(600),
]

EXAMPLES = int(os.environ.get("STEPWISE_FUZZ_EXAMPLES", "4"))
WORKFLOW = "canvas-expense-approval"
MACHINE = "canvas-order"
WEBHOOK = "fuzz-hook"
CALLER_ONLY = {401, 403, 429}
"""Answers about the caller (credentials, roles, rate), not about a field of the request."""


@dataclass
class World:
    base_url: str
    tokens: dict[str, str]
    path_values: dict[str, list[str]] = field(default_factory=dict)


def _api(world_url: str, token: str, method: str, path: str, body: Any = None) -> Any:
    response = httpx.request(
        method,
        world_url + path,
        json=body,
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert response.status_code < 300, (path, response.status_code, response.text)
    return response.json()


def _flush() -> None:
    # A worker still finishing a run can deadlock with the flush; it is one transaction.
    for attempt in range(1, 6):
        try:
            call_command("flush", interactive=False, verbosity=0)
            return
        except Exception as error:
            if attempt == 5 or not isinstance(error.__cause__, DatabaseError):
                raise
            time.sleep(0.2 * attempt)


@pytest.fixture(scope="module")
def world(daphne_server: str, django_db_blocker: Any) -> Iterator[World]:
    """Seeded objects, committed so that Daphne and the worker see them; flushed afterwards."""
    with django_db_blocker.unblock():
        ensure_demo_users()
        admin = User.objects.get(username="admin")
        load_demo_graphs(admin)
        load_demo_machines(admin)
        tokens = {
            name: ApiToken.issue(User.objects.get(username=name), "fuzz")[1]
            for name in ("admin", "viewer")
        }
    call = partial(_api, daphne_server, tokens["admin"])
    run = call(
        "POST",
        f"/api/workflows/{WORKFLOW}/runs",
        {"input": {"employee": "ann", "amount": 2500, "description": "fuzz"}},
    )
    instance = call("POST", f"/api/machines/{MACHINE}/instances", {"key": "order-fuzz"})
    call("POST", "/api/webhooks", {"slug": WEBHOOK, "workflow": WORKFLOW})
    today = timezone.localdate()
    delegation = call(
        "POST",
        "/api/me/delegations",
        {
            "delegate": "approver",
            "starts_on": today.isoformat(),
            "ends_on": (today + timedelta(days=3)).isoformat(),
        },
    )
    probe = call("POST", "/api/system/worker-probes")
    call("POST", f"/api/workflows/{WORKFLOW}/secrets", {"name": "FUZZ"})
    with django_db_blocker.unblock():
        deadline = time.monotonic() + 30
        while not HumanTask.objects.filter(run_id=run["id"]).exists():
            assert time.monotonic() < deadline, "the worker opened no task for the seeded run"
            time.sleep(0.2)
        task_ids = [str(pk) for pk in HumanTask.objects.values_list("pk", flat=True)]
        step_ids = [str(pk) for pk in StepRecord.objects.values_list("pk", flat=True)[:3]]
    yield World(
        base_url=daphne_server,
        tokens=tokens,
        path_values={
            "slug": [WORKFLOW, MACHINE, WEBHOOK],
            "run_id": [str(run["id"])],
            "task_id": task_ids[:2],
            "probe_id": [str(probe["id"])],
            "instance_id": [str(instance["id"])],
            "delegation_id": [str(delegation["id"])],
            "number": ["1"],
            "name": ["FUZZ"],
            "node": ["manager", "start"],
            "node_id": ["manager", "start"],
            "step_id": step_ids,
        },
    )
    with django_db_blocker.unblock():
        _flush()


def _operations_with_deletes_last(schema: Any) -> list[Any]:
    operations = [result.ok() for result in schema.get_all_operations()]
    return sorted(operations, key=lambda operation: operation.method.upper() == "DELETE")


def _known_names(operation: Any, case: Any) -> set[str]:
    """Every name a field error may point at: the operation's parameters and body properties,
    and whatever names the request itself sent (an undeclared query parameter, a body key)."""
    raw = operation.schema.raw_schema
    definition = raw["paths"][operation.path][operation.method.lower()]
    names = {parameter["name"] for parameter in definition.get("parameters", [])}
    names.add("path")  # an address no route takes (config/api.py no_such_endpoint)
    if re.match(r"/api/(workflows|machines)/\{slug\}/", operation.path):
        names.add("draft")  # the saved draft the operation acts on
    content = definition.get("requestBody", {}).get("content", {})
    if content:
        names.add("body")  # the body as a whole: not JSON, not an object
    for media in content.values():
        body = media.get("schema", {})
        if "$ref" in body:
            body = raw["components"]["schemas"][body["$ref"].rsplit("/", 1)[-1]]
        names.update(body.get("properties", {}))
    names.update(str(name) for name in case.query or {})
    if isinstance(case.body, dict):
        names.update(str(key) for key in case.body)
    return names


def names_the_field(operation: Any, case: Any, status: int, text: str) -> str | None:
    """Why a 4xx body fails to name the field it is about, or None when it does.

    Our bodies are `{"detail": "<field>: <message>", "field": "<field>"}`
    (accounts/api_refusals.py), where the field is a path or query parameter or a body property
    (its first segment, for `graph.nodes[0].id`), `body`, `draft` or `path`; django-ninja's own
    422 lists `{"loc": ["body", "payload", "<field>", …], "msg"}`, whose every location must
    name more than where the value was. 401, 403 and 429 are about the caller. Every body has
    `field`, said by the code that refused (null when about the caller), never read from the
    message.
    """
    try:
        body = json.loads(text)
    except ValueError:
        return f"not JSON: {text[:200]!r}"
    if not isinstance(body, dict) or "detail" not in body or "field" not in body:
        return f"no detail or no field: {text[:200]}"
    detail = body["detail"]
    if status in CALLER_ONLY:
        return None if isinstance(detail, str) and detail else f"empty detail: {text[:200]}"
    if isinstance(detail, list):
        vague = [item for item in detail if len(item.get("loc", [])) < 2]
        return f"a location names no field: {vague}" if vague else None
    named = body["field"]
    if not named:
        return f"names no field: {text[:200]}"
    if not (isinstance(detail, str) and detail.startswith(f"{named}: ")):
        return f"the detail does not start with its field: {text[:200]}"
    known = _known_names(operation, case)
    # `graph.nodes[0].id` names graph; a key sent with a dot or bracket in it names itself.
    if not any(named == name or named.startswith((f"{name}.", f"{name}[")) for name in known):
        return f"field {named!r} is none of {sorted(known)}: {text[:200]}"
    return None


def _real_paths(world: World, operation: Any) -> list[dict[str, str]]:
    names = [p.name for p in operation.path_parameters]
    if not names:
        return []
    choices = [world.path_values.get(name, []) for name in names]
    return [dict(zip(names, values, strict=True)) for values in itertools.product(*choices)][:6]


def _strategy(world: World, operation: Any) -> Any:
    strategies = []
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        strategies.append(operation.as_strategy(generation_mode=mode))
        real = _real_paths(world, operation)
        if real:
            strategies.append(
                st.sampled_from(real).flatmap(
                    lambda values, mode=mode: operation.as_strategy(
                        generation_mode=mode, path_parameters=values
                    )
                )
            )
    return st.one_of(strategies)


def _fuzz_operation(
    world: World, operation: Any, examples: int, headers: dict[str, str], failures: dict[str, str]
) -> None:
    checks = [not_a_server_error, response_schema_conformance, content_type_conformance]

    @hypothesis.settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @hypothesis.given(case=_strategy(world, operation))
    def one(case: Any) -> None:
        if operation.label in failures:
            return
        response = case.call(base_url=world.base_url, headers=headers, timeout=30)
        problem = None
        try:
            case.validate_response(response, checks=checks, headers=headers)
        except (FailureGroup, AssertionError) as failed:
            problem = str(failed)
        if problem is None and 400 <= response.status_code < 500:
            problem = names_the_field(operation, case, response.status_code, response.text)
        if problem is not None:
            curl = case.as_curl_command(headers=headers, base_url=world.base_url)
            failures[operation.label] = (
                f"{operation.label} → {response.status_code}: {problem}\n  {curl}"
            )

    one()


def fuzz(world: World, caller: str, examples: int) -> list[str]:
    """Every operation's first failure, as text with a curl command that repeats it."""
    headers = {"Authorization": f"Bearer {world.tokens[caller]}"}
    schema = schemathesis.openapi.from_url(f"{world.base_url}/api/openapi.json", headers=headers)
    schema.config.generation.update(with_security_parameters=False)
    failures: dict[str, str] = {}
    for operation in _operations_with_deletes_last(schema):
        _fuzz_operation(world, operation, examples, headers, failures)
    return sorted(failures.values())


def test_a_viewer_gets_no_5xx_and_every_4xx_names_its_field(world: World) -> None:
    failures = fuzz(world, "viewer", max(1, EXAMPLES // 4))
    if failures:
        pytest.fail("\n\n".join(failures), pytrace=False)


def test_an_administrator_gets_no_5xx_and_every_4xx_names_its_field(world: World) -> None:
    failures = fuzz(world, "admin", EXAMPLES)
    if failures:
        pytest.fail("\n\n".join(failures), pytrace=False)
