"""The canvas demos without people (onboarding, enrichment, fulfilment, campaign, payment),
created and published through the API, run on a real worker to the output they promise."""

import itertools
import time
from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client

from accounts.models import ApiToken
from designer.demo_graphs import CAMPAIGN_DELAY_SECONDS, demo_graph
from engine.models import Event, Record, Run
from tests.designer.test_graph_api__draft_publish_run import api
from tests.engine.runtime.test_engine__runs_through_real_workers import wait_for_status
from tests.processes import RunningProcess

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("celery_worker", "timer_loop"),
]


@pytest.fixture
def designer() -> dict[str, str]:
    """A designer who may also run workflows (no password: tokens only, no slow hashing)."""
    user = User.objects.create(username="dana")
    user.groups.set([Group.objects.get_or_create(name=n)[0] for n in ("designers", "operators")])
    _, raw = ApiToken.issue(user, "ci")
    return {"Authorization": f"Bearer {raw}"}


def publish_demo(client: Client, headers: dict[str, str], slug: str) -> None:
    demo = demo_graph(slug)
    body = {"slug": slug, "title": demo.title, "description": demo.description, "graph": demo.graph}
    created = api(client, "post", "/api/workflows", headers, body)
    assert created.status_code == 201, created.json()
    assert created.json()["problems"] == []
    published = api(client, "post", f"/api/workflows/{slug}/publish", headers, {"note": "demo"})
    assert published.status_code == 201, published.json()


def start(client: Client, headers: dict[str, str], slug: str, input: Any) -> Run:
    started = api(client, "post", f"/api/workflows/{slug}/runs", headers, {"input": input})
    assert started.status_code == 201, started.json()
    return Run.objects.get(pk=started.json()["id"])


def step_names(client: Client, headers: dict[str, str], run: Run) -> list[str]:
    detail = api(client, "get", f"/api/runs/{run.pk}", headers).json()
    return [step["name"] for step in detail["steps"] if step["kind"] == "step"]


def test_onboarding_creates_the_account_then_its_record_then_sends_the_welcome_email(
    client: Client, designer: dict[str, str], celery_worker: RunningProcess
) -> None:
    publish_demo(client, designer, "canvas-customer-onboarding")
    refused = api(
        client,
        "post",
        "/api/workflows/canvas-customer-onboarding/runs",
        designer,
        {"input": {"name": "Ada"}},
    )
    assert refused.status_code == 422
    assert "email" in refused.json()["detail"]

    run = start(
        client,
        designer,
        "canvas-customer-onboarding",
        {"name": "Ada Lovelace", "email": "ada@example.com", "plan": "pro"},
    )
    run = wait_for_status(run, "completed")
    account = run.output["account"]
    assert account["email"] == "ada@example.com" and account["plan"] == "pro"
    assert run.output["record"] == account["id"]
    assert run.output["welcomed"] == ["ada@example.com"]
    assert step_names(client, designer, run) == ["start", "account", "save", "welcome", "done"]
    record = Record.objects.get(collection="Accounts", key=account["id"])
    assert record.data == {
        "customer": "Ada Lovelace",
        "email": "ada@example.com",
        "plan": "pro",
        "status": "active",
    }
    # The worker has no mail server configured: the console backend prints to its log.
    assert "Subject: Welcome to Acme, Ada Lovelace!" in celery_worker.log()


def test_lead_enrichment_runs_three_lookups_in_parallel_and_merges_them(
    client: Client, designer: dict[str, str]
) -> None:
    publish_demo(client, designer, "canvas-lead-enrichment")
    run = start(
        client,
        designer,
        "canvas-lead-enrichment",
        {"name": "Grace Hopper", "email": "grace@navy.example", "domain": "navy.example"},
    )
    run = wait_for_status(run, "completed")
    lead = run.output["lead"]
    assert lead["emailValid"] is True
    assert lead["title"] == ""
    assert lead["company"]["name"] == "Navy"
    assert lead["socialProfiles"]["twitter"] == "@grace_hopper"
    assert run.output["score"] == {"score": 70, "grade": "B"}
    steps = step_names(client, designer, run)
    assert steps[:2] == ["start", "fork"]
    assert sorted(steps[2:5]) == ["company", "social", "verify"]
    assert steps[5:] == ["all", "merge", "score", "done"]
    assert run.steps.filter(name="verify").values_list("branch", flat=True).get() > 0


def test_order_fulfilment_branches_on_stock_and_on_the_shipping_method(
    client: Client, designer: dict[str, str]
) -> None:
    publish_demo(client, designer, "canvas-order-fulfilment")
    in_stock = [{"sku": "widget", "quantity": 2}]
    orders = {
        "A-1": {"items": in_stock, "shipping": "express"},
        "A-2": {"items": in_stock, "shipping": "pickup"},
        "A-3": {"items": in_stock, "shipping": "standard"},
        "A-4": {"items": [{"sku": "gizmo", "quantity": 1}], "shipping": "express"},
    }
    runs = {
        order_id: start(
            client,
            designer,
            "canvas-order-fulfilment",
            {"id": order_id, "email": "buyer@example.com", **order},
        )
        for order_id, order in orders.items()
    }
    done = {order_id: wait_for_status(run, "completed") for order_id, run in runs.items()}

    taken = {order_id: step_names(client, designer, run) for order_id, run in done.items()}
    assert taken["A-1"] == [
        "start",
        "stock",
        "in_stock",
        "reserve",
        "method",
        "ship_express",
        "shipped",
        "done",
    ]
    assert "ship_pickup" in taken["A-2"] and "ship_express" not in taken["A-2"]
    assert "ship_standard" in taken["A-3"]  # the switch's default
    assert taken["A-4"] == ["start", "stock", "in_stock", "backorder", "notify", "backordered"]
    assert done["A-3"].output == {"order": "A-3", "status": "shipped", "method": "standard"}
    assert done["A-4"].output == {"order": "A-4", "status": "backordered", "missing": ["gizmo"]}
    shipped = Event.objects.filter(type="Order.shipped").order_by("payload__order")
    assert [(event.payload["order"], event.payload["method"]) for event in shipped] == [
        ("A-1", "express"),
        ("A-2", "pickup"),
        ("A-3", "standard"),
    ]


def test_email_campaign_sends_one_email_per_recipient_with_a_pause_between(
    client: Client, designer: dict[str, str], celery_worker: RunningProcess
) -> None:
    publish_demo(client, designer, "canvas-email-campaign")
    recipients = [{"email": f"reader{n}@example.com", "name": f"Reader {n}"} for n in range(1, 4)]
    began = time.monotonic()
    run = start(
        client,
        designer,
        "canvas-email-campaign",
        {"campaign": "spring", "subject": "Spring news 7f3a", "recipients": recipients},
    )
    run = wait_for_status(run, "completed")
    assert time.monotonic() - began >= 2 * CAMPAIGN_DELAY_SECONDS
    assert run.output == {"campaign": "spring", "sent": 3}
    assert step_names(client, designer, run) == [
        "start",
        "each",
        "send[0]",
        "send[1]",
        "send[2]",
        "report",
    ]
    sends = list(run.steps.filter(name__startswith="send[").order_by("seq"))
    # The rate limit: each email starts a pause after the one before it.
    for before, after in itertools.pairwise(sends):
        assert before.finished_at is not None
        gap = (after.started_at - before.finished_at).total_seconds()
        assert gap >= CAMPAIGN_DELAY_SECONDS * 0.9, gap
    assert celery_worker.log().count("Subject: Spring news 7f3a") == 3


def test_payment_ships_a_paid_order_and_a_declined_card_releases_the_inventory(
    client: Client, designer: dict[str, str]
) -> None:
    publish_demo(client, designer, "canvas-payment")
    order = {
        "items": [{"sku": "widget", "quantity": 1}],
        "total": 120.5,
        "customer": "cust-7",
    }
    paid = start(client, designer, "canvas-payment", {**order, "id": "P-1", "card": "4242"})
    declined = start(client, designer, "canvas-payment", {**order, "id": "P-2", "card": "declined"})

    paid = wait_for_status(paid, "completed")
    assert paid.output["success"] is True
    assert paid.output["payment"]["amount"] == 120.5
    assert paid.output["tracking"].startswith("STA-")
    assert Event.objects.get(type="Order.confirmed").payload["order"] == "P-1"
    assert not paid.steps.filter(name__contains=":undo:").exists()

    declined = wait_for_status(declined, "failed")
    assert "declined" in str(declined.error)
    undone = declined.steps.filter(name__contains=":undo:", status="completed")
    assert [(step.name, step.output) for step in undone] == [
        (
            "release:undo:reserve",
            {
                "output": {"released": declined.steps.get(name="reserve").output["output"]["id"]},
                "handle": "",
                "vars": {},
            },
        )
    ]
    charge = declined.steps.get(name="charge")
    assert charge.status == "failed" and charge.attempt == 1  # declined: not retried
    assert not declined.steps.filter(name__in=["ship", "confirmed"]).exists()
