"""A bulkhead or a workflow cap declared wrongly is refused where it is declared, with the
field named: in code (at import), on a canvas node (validation), in the API and start form."""

import pytest
from django.test import Client

from accounts.models import ApiToken
from engine.core import Bulkhead, DefinitionError, step, workflow
from engine.graph.program import compile_node
from engine.graph.validate import validate_node_config
from engine.models import Run


def noop() -> None:
    return None


@pytest.mark.parametrize(
    ("declare", "message"),
    [
        (lambda: step(bulkhead="Payments API")(noop), "bulkhead.name"),
        (
            lambda: step(bulkhead=Bulkhead("payments", max_concurrent=0))(noop),
            "bulkhead.max_concurrent",
        ),
        (lambda: step(bulkhead=3)(noop), "bulkhead= takes a name"),  # type: ignore[call-overload]
        (lambda: workflow("capped-wrong", max_active=0), "max_active"),
        (lambda: workflow("capped-huge", max_active=100_001), "from 1 to 100,000"),
        (
            lambda: workflow("keyed-wrong", concurrency_key="customer"),
            "concurrency_key needs max_active",
        ),
    ],
)
def test_code_declarations_fail_when_declared(declare: object, message: str) -> None:
    with pytest.raises(DefinitionError, match=message):
        declare()  # type: ignore[operator]


@pytest.mark.parametrize(
    ("bulkhead", "field"),
    [
        ({"name": "Payments API"}, "bulkhead.name"),
        ({"name": "payments", "max_concurrent": 0}, "bulkhead.max_concurrent"),
        ({"max_concurrent": 3}, "bulkhead"),
        ({"name": "payments", "limit": 3}, "bulkhead"),
    ],
)
def test_a_node_bulkhead_is_validated_naming_its_field(
    bulkhead: dict[str, object], field: str
) -> None:
    config = {"action": "demo.partner-lookup", "args": {"sku": "a"}, "bulkhead": bulkhead}
    problems = validate_node_config("action.python", "lookup", config)
    assert problems and all(problem.node == "lookup" for problem in problems)
    assert any((problem.field or "").startswith(f"config.{field}") for problem in problems), (
        problems
    )


def test_a_valid_node_bulkhead_reaches_the_step_it_runs_as() -> None:
    config = {
        "action": "demo.partner-lookup",
        "bulkhead": {"name": "partner-api", "max_concurrent": 3},
    }
    assert validate_node_config("action.python", "lookup", config) == []
    assert compile_node("lookup", "action.python", config).bulkhead == Bulkhead("partner-api", 3)


@pytest.mark.django_db
@pytest.mark.parametrize("priority", [101, -101, "high", 1.5])
def test_the_api_refuses_a_priority_out_of_range_and_starts_nothing(
    client: Client, make_user: object, priority: object
) -> None:
    _, raw = ApiToken.issue(make_user("olga", "operators"), "ci")  # type: ignore[operator]
    answer = client.post(
        "/api/workflows/test-sequence/runs",
        {"input": {"steps": 1}, "priority": priority},
        content_type="application/json",
        headers={"Authorization": f"Bearer {raw}"},
    )
    assert answer.status_code == 422
    assert "priority" in answer.content.decode()
    assert not Run.objects.exists()


@pytest.mark.django_db
def test_the_api_and_the_start_form_set_the_priority(client: Client, make_user: object) -> None:
    user = make_user("olga", "operators")  # type: ignore[operator]
    _, raw = ApiToken.issue(user, "ci")
    answer = client.post(
        "/api/workflows/test-sequence/runs",
        {"input": {"steps": 1}, "priority": 7},
        content_type="application/json",
        headers={"Authorization": f"Bearer {raw}"},
    )
    assert answer.status_code == 201 and answer.json()["priority"] == 7
    client.force_login(user)
    refused = client.post(
        "/designer/test-sequence/start", {"input": '{"steps": 1}', "run.priority": "999"}
    )
    assert refused.status_code == 422
    assert "Priority must be a whole number from -100 to 100" in refused.content.decode()
    started = client.post(
        "/designer/test-sequence/start", {"input": '{"steps": 1}', "run.priority": "50"}
    )
    assert started.status_code == 302
    assert list(Run.objects.order_by("pk").values_list("priority", "trigger")) == [
        (7, "api"),
        (50, "manual"),
    ]
