"""Schedules, event triggers and webhooks give the runs they start a priority (-100..100):
set in the schedule admin, in code (`every...options(priority=)`, `on...(priority=)`), on a
graph's trigger.schedule, trigger.event and trigger.webhook nodes, and on a webhook endpoint
(admin and API). A priority out of range is refused where it is entered, naming its field."""

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import ApiToken
from engine.core import DefinitionError, every, on
from engine.graph.publishing import publish_graph
from engine.graph.validate import validate_graph
from engine.inbound.events import deliver_event
from engine.inbound.schedule_sync import sync_code_schedules
from engine.inbound.schedules import fire_due_schedules
from engine.inbound.webhook_endpoints import create_endpoint
from engine.inbound.webhooks import process_delivery
from engine.models import DebounceSlot, Run, Schedule, WebhookDelivery, WebhookEndpoint
from engine.runtime.sweepers import start_due_debounces
from tests.engine import trigger_flows  # noqa: F401 - declares test-on-arrears
from tests.engine.admin.test_admin__schedules import FORM as SCHEDULE_FORM
from tests.engine.graph.graphs import graph
from tests.engine.webhook_signing import deliver

pytestmark = pytest.mark.django_db

FORM = {**SCHEDULE_FORM, "name": "Nightly sync", "cron": "0 2 * * *", "overlap": "allow_all"}


def run_of(**filters: Any) -> Run:
    return Run.objects.get(**filters)


def test_the_schedule_admin_sets_the_priority_and_refuses_one_out_of_range(
    client: Client, make_user: Any
) -> None:
    client.force_login(make_user("root", is_staff=True, is_superuser=True))
    refused = client.post("/admin/engine/schedule/add/", {**FORM, "priority": "150"})
    assert refused.status_code == 200
    errors = refused.context["adminform"].form.errors
    assert errors == {"priority": ["Ensure this value is less than or equal to 100."]}
    assert not Schedule.objects.exists()

    saved = client.post("/admin/engine/schedule/add/", {**FORM, "priority": "-40"})
    assert saved.status_code == 302, saved.content.decode()[-1500:]
    schedule = Schedule.objects.get()
    assert schedule.priority == -40
    Schedule.objects.filter(pk=schedule.pk).update(next_fire_at=timezone.now())
    assert fire_due_schedules() == 1
    assert run_of(trigger="schedule").priority == -40


def test_graph_trigger_nodes_carry_a_priority_checked_by_validation() -> None:
    out_of_range = graph(
        [
            ("tick", "trigger.schedule", {"cron": "@hourly", "priority": 101}),
            ("hear", "trigger.event", {"event_types": ["Ledger.closed"], "priority": -101}),
            ("done", "flow.end"),
        ],
        ["tick>done", "hear>done"],
    )
    found = {(p.node, p.field) for p in validate_graph(out_of_range)}
    assert found == {("tick", "config.priority"), ("hear", "config.priority")}

    publish_graph(
        "ledger",
        "Ledger",
        graph(
            [
                ("tick", "trigger.schedule", {"cron": "@hourly", "priority": 70}),
                ("hear", "trigger.event", {"event_types": ["Ledger.closed"], "priority": 25}),
                (
                    "soon",
                    "trigger.event",
                    {
                        "event_types": ["Ledger.reopened"],
                        "priority": -5,
                        "debounce": {"seconds": 60, "key": "event.id"},
                    },
                ),
                ("done", "flow.end"),
            ],
            ["tick>done", "hear>done", "soon>done"],
        ),
    )
    schedule = Schedule.objects.get(source="graph", source_key="ledger:tick")
    assert schedule.priority == 70
    Schedule.objects.filter(pk=schedule.pk).update(next_fire_at=timezone.now())
    fire_due_schedules()
    assert run_of(trigger="schedule", workflow="ledger").priority == 70

    deliver_event("Ledger.closed", {"id": "l-1"}, event_id="ledger-closed-1")
    assert run_of(trigger="event", workflow="ledger").priority == 25

    deliver_event("Ledger.reopened", {"id": "l-1"}, event_id="ledger-reopened-1")
    assert DebounceSlot.objects.get(workflow="ledger").priority == -5
    DebounceSlot.objects.update(due_at=timezone.now() - timedelta(seconds=1))
    assert start_due_debounces() == 1
    assert run_of(trigger="debounce", workflow="ledger").priority == -5


def test_code_declarations_carry_a_priority_and_refuse_a_bad_one() -> None:
    with pytest.raises(DefinitionError, match="schedule's priority must be a whole number"):
        every.hour.options(priority=500)
    with pytest.raises(DefinitionError, match=r"on\(Arrears.noticed\): priority must be"):
        on.Arrears.noticed(priority="high")

    sync_code_schedules()
    assert Schedule.objects.get(source="code", source_key="test-on-arrears").priority == -30
    deliver_event("Arrears.noticed", {"account": "a-9"}, event_id="arrears-1")
    assert run_of(trigger="event", workflow="test-on-arrears").priority == 60


def test_webhook_endpoints_and_webhook_nodes_give_their_runs_a_priority(
    client: Client, make_user: Any
) -> None:
    _, raw = ApiToken.issue(make_user("olga", "operators"), "ci")
    headers = {"Authorization": f"Bearer {raw}"}

    def api(method: str, path: str, body: dict[str, Any]) -> Any:
        return getattr(client, method)(path, body, content_type="application/json", headers=headers)

    refused = api("post", "/api/webhooks", {"slug": "test-rush", "priority": 300})
    assert refused.status_code == 422
    assert refused.json()["field"] == "priority"
    assert "-100 to 100" in refused.json()["detail"]
    created = api(
        "post",
        "/api/webhooks",
        {"slug": "test-rush", "workflow": "test-hook-target", "priority": 90},
    )
    assert created.status_code == 201 and created.json()["priority"] == 90
    secret = created.json()["secret"]
    changed = api("patch", "/api/webhooks/test-rush", {"priority": -101})
    assert (changed.status_code, changed.json()["field"]) == (422, "priority")
    assert WebhookEndpoint.objects.get(slug="test-rush").priority == 90

    assert deliver(client, "test-rush", secret, {"order": "o-1"}).status_code == 202
    process_delivery(WebhookDelivery.objects.get(endpoint__slug="test-rush").pk)
    assert run_of(trigger="webhook", workflow="test-hook-target").priority == 90

    _, quiet = create_endpoint("test-leads-later")
    publish_graph(
        "test-graph-later",
        "Later",
        graph(
            [
                ("hook", "trigger.webhook", {"endpoint": "test-leads-later", "priority": -60}),
                ("done", "flow.end"),
            ],
            ["hook>done"],
        ),
    )
    assert deliver(client, "test-leads-later", quiet, {"lead": 1}).status_code == 202
    process_delivery(WebhookDelivery.objects.get(endpoint__slug="test-leads-later").pk)
    assert run_of(workflow="test-graph-later").priority == -60


def test_the_endpoint_admin_refuses_a_priority_out_of_range(client: Client, make_user: Any) -> None:
    client.force_login(make_user("root", is_staff=True, is_superuser=True))
    endpoint, _ = create_endpoint("test-admin-hook", workflow="test-hook-target")
    form = {
        "slug": "test-admin-hook",
        "title": "",
        "active": "on",
        "event_type": "",
        "workflow": "test-hook-target",
        "input": "",
        "verification": "standard",
        "secret_header": "X-Webhook-Secret",
        "tolerance_seconds": "300",
        "max_body_bytes": "1000000",
        "sender_secret": "",
    }
    url = f"/admin/engine/webhookendpoint/{endpoint.pk}/change/"
    refused = client.post(url, {**form, "priority": "-500"})
    assert refused.status_code == 200
    errors = refused.context["adminform"].form.errors
    assert errors == {"priority": ["Ensure this value is greater than or equal to -100."]}
    assert client.post(url, {**form, "priority": "15"}).status_code == 302
    assert WebhookEndpoint.objects.get(pk=endpoint.pk).priority == 15
