"""A schedule's input is checked against its workflow's input schema when it is saved: in the
admin the problem is shown on the input field and nothing is saved; an empty input is {}; a
graph's schedule trigger with a mismatching input is a validation problem before publishing."""

from typing import Any

import pytest
from django.test import Client

from engine.graph.publishing import publish_graph
from engine.graph.validate import validate_graph
from engine.models import Schedule
from tests.engine.admin.schedule_forms import schedule_form
from tests.engine.graph.graphs import graph

pytestmark = pytest.mark.django_db

SCHEMA = {"type": "object", "required": ["amount"], "properties": {"amount": {"type": "number"}}}
AMOUNTS = graph(
    [("start", "trigger.manual", {"input_schema": SCHEMA}), ("done", "flow.end")],
    ["start>done"],
)
FORM = schedule_form(name="Daily total", workflow="amounts", cron="0 9 * * *", timezone="UTC")


@pytest.fixture
def root(client: Client, make_user: Any) -> Client:
    publish_graph("amounts", "Amounts", AMOUNTS)
    client.force_login(make_user("root", is_staff=True, is_superuser=True))
    return client


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ('{"amount": "lots"}', "input.amount: &#x27;lots&#x27; is not of type &#x27;number&#x27;"),
        ("", "input: &#x27;amount&#x27; is a required property"),
        ('{"total": 3}', "input: &#x27;amount&#x27; is a required property"),
    ],
)
def test_an_input_that_breaks_the_schema_is_refused_on_its_field(
    root: Client, value: str, message: str
) -> None:
    answer = root.post("/admin/engine/schedule/add/", {**FORM, "input": value})
    assert answer.status_code == 200  # the form again, not a redirect
    page = answer.content.decode()
    assert "does not match the workflow: " + message in page
    assert not Schedule.objects.exists()


def test_a_matching_input_is_saved_and_an_empty_one_is_an_empty_object(
    root: Client, make_user: Any
) -> None:
    answer = root.post("/admin/engine/schedule/add/", {**FORM, "input": '{"amount": 3}'})
    assert answer.status_code == 302, answer.content.decode()[-2000:]
    assert Schedule.objects.get().input == {"amount": 3}
    publish_graph("free", "Free", graph([("s", "trigger.manual"), ("e", "flow.end")], ["s>e"]))
    second = root.post(
        "/admin/engine/schedule/add/", {**FORM, "name": "Free", "workflow": "free", "input": ""}
    )
    assert second.status_code == 302
    assert Schedule.objects.get(name="Free").input == {}


def test_a_schedule_trigger_in_a_graph_checks_its_input() -> None:
    """Validation (the API's and the canvas's) names the trigger's config.input; `{}` counts."""
    document = graph(
        [
            ("start", "trigger.manual", {"input_schema": SCHEMA}),
            ("daily", "trigger.schedule", {"cron": "@daily", "input": {"amount": "x"}}),
            ("nightly", "trigger.schedule", {"cron": "@daily"}),
            ("ok", "trigger.schedule", {"cron": "@daily", "input": {"amount": 1}}),
            ("done", "flow.end"),
        ],
        ["start>done", "daily>done", "nightly>done", "ok>done"],
    )
    found = [(p.node, p.field, p.message) for p in validate_graph(document)]
    assert found == [
        (
            "daily",
            "config.input",
            "does not match the workflow's input schema: input.amount: 'x' is not of type 'number'",
        ),
        (
            "nightly",
            "config.input",
            "does not match the workflow's input schema: input: 'amount' is a required property",
        ),
    ]
