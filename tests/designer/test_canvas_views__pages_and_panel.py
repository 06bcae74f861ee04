"""Designer pages: a new workflow opens its canvas; the side panel validates a node's config."""

import json

import pytest
from django.test import Client

from designer.models import Workflow

pytestmark = pytest.mark.django_db


@pytest.fixture
def designer(make_user) -> Client:
    """A client logged in as a designer."""
    client = Client()
    client.force_login(make_user("dora", "designers"))
    return client


def test_the_new_workflow_form_creates_a_draft_and_opens_the_canvas(designer: Client) -> None:
    client = designer
    response = client.post("/designer/new", {"slug": "fresh", "title": "Fresh"})
    assert response.status_code == 302
    assert response["Location"] == "/designer/fresh/"
    page = client.get("/designer/fresh/")
    assert b'id="canvas-boot"' in page.content
    assert client.post("/designer/new", {"slug": "Bad Slug", "title": "x"}).status_code == 422


def test_the_panel_answers_with_the_form_and_an_event_carrying_the_config(designer: Client) -> None:
    client = designer
    client.post("/designer/new", {"slug": "panel", "title": "Panel"})
    base = {"node_id": "check", "node_type": "logic.condition", "label": "Big?", "config": "{}"}
    opened = client.post("/designer/panel/panel", {**base, "open": "1"})
    assert opened.status_code == 200 and "HX-Trigger" not in opened
    assert b'name="cfg.expression"' in opened.content

    bad = client.post("/designer/panel/panel", {**base, "cfg.expression": "input.amount >"})
    event = json.loads(bad["HX-Trigger"])["stepwise:node-updated"]
    assert event["node"] == "check" and event["label"] == "Big?"
    assert event["problems"][0]["field"] == "config.expression"
    assert b'aria-invalid="true"' in bad.content

    good = client.post("/designer/panel/panel", {**base, "cfg.expression": "input.amount > 10"})
    event = json.loads(good["HX-Trigger"])["stepwise:node-updated"]
    assert event["config"] == {"expression": "input.amount > 10"} and event["problems"] == []
    assert Workflow.objects.get(slug="panel").draft == {"nodes": [], "edges": []}


def test_durations_and_event_types_are_typed_as_plain_text(designer: Client) -> None:
    """A field that is a number or a string is one line: 48h stays text, 90 becomes a number."""
    client = designer
    client.post("/designer/new", {"slug": "waits", "title": "Waits"})
    base = {"node_id": "paid", "node_type": "flow.wait_event", "label": "", "config": "{}"}
    opened = client.post("/designer/waits/panel", {**base, "open": "1"})
    # The duration control is drawn by the canvas; the one-line input stays as its text view.
    assert b'<input id="panel-field-timeout-json"' in opened.content
    assert b'data-control="duration"' in opened.content
    assert b'<textarea id="panel-field-timeout"' not in opened.content

    def config_after(**fields: str) -> dict:
        posted = {**base, **{f"cfg.{key}": value for key, value in fields.items()}}
        answer = client.post("/designer/waits/panel", posted)
        assert answer.status_code == 200
        event = json.loads(answer["HX-Trigger"])["stepwise:node-updated"]
        assert event["problems"] == [], event["problems"]
        return event["config"]

    assert config_after(event_types="Order.paid", timeout="48h") == {
        "event_types": "Order.paid",
        "timeout": "48h",
    }
    assert config_after(event_types='["Order.paid", "Order.voided"]', timeout="90")["timeout"] == 90
    nan = client.post(
        "/designer/waits/panel", {**base, "cfg.event_types": "A.b", "cfg.timeout": "nan"}
    )
    problems = json.loads(nan["HX-Trigger"])["stepwise:node-updated"]["problems"]
    assert [problem["field"] for problem in problems] == ["config.timeout"]


def test_viewers_see_the_panel_read_only_and_cannot_create(make_user) -> None:
    client = Client()
    client.force_login(make_user("vera", "viewers"))
    assert client.post("/designer/new", {"slug": "nope", "title": "Nope"}).status_code == 403


def test_a_code_workflow_opens_read_only(designer: Client) -> None:
    client = designer
    page = client.get("/designer/api-call/")
    assert page.status_code == 200
    assert b'data-testid="read-only-note"' in page.content
    assert b"canvas-boot" not in page.content
