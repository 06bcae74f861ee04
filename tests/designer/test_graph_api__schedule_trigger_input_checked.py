"""Through the API, a graph whose schedule trigger's input breaks the input schema reports the
problem on the draft and cannot be published, so no schedule is made that fails every run."""

from typing import Any

import pytest

from engine.graph.publishing import activate_version_triggers as activate_triggers
from engine.models import GraphVersion, Schedule
from tests.engine.graph.graphs import graph

pytestmark = pytest.mark.django_db

SCHEMA = {"type": "object", "required": ["amount"], "properties": {"amount": {"type": "number"}}}


def test_a_schedule_trigger_input_must_match_the_schema(designer_api: Any) -> None:
    document = graph(
        [
            ("start", "trigger.manual", {"input_schema": SCHEMA}),
            ("daily", "trigger.schedule", {"cron": "@daily", "input": {"amount": "ten"}}),
            ("done", "flow.end"),
        ],
        ["start>done", "daily>done"],
    )
    created = designer_api("post", "/api/workflows", {"slug": "d", "title": "D", "graph": document})
    assert created.status_code == 201
    [problem] = created.json()["problems"]
    assert problem["node"] == "daily" and problem["field"] == "config.input"
    assert "input.amount: 'ten' is not of type 'number'" in problem["message"]

    refused = designer_api("post", "/api/workflows/d/publish", {"note": "x"})
    assert refused.status_code == 422
    assert refused.json()["problems"][0]["field"] == "config.input"
    assert not GraphVersion.objects.filter(workflow="d").exists()
    assert not Schedule.objects.filter(workflow="d").exists()

    document["nodes"][1]["config"]["input"] = {"amount": 10}
    saved = designer_api("put", "/api/workflows/d/draft", {"graph": document, "revision": 1})
    assert saved.json()["problems"] == []
    published = designer_api("post", "/api/workflows/d/publish", {})
    assert published.status_code == 201
    # A designer's schedule starts runs once an operator activates it (issue 15).
    assert published.json()["triggers_active"] is False
    activate_triggers("d", published.json()["number"], None)
    assert Schedule.objects.get(workflow="d").input == {"amount": 10}
