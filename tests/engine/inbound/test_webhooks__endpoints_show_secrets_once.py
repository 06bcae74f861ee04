"""Webhook endpoints are created and rotated through the API and the admin, and their secret
is shown in that one answer only: lists, change pages and logs never carry it. Settings are
checked with errors naming the field; a delivery not yet processed cannot be replayed."""

from typing import Any

import pytest
from django.contrib.admin.models import LogEntry
from django.test import Client

from accounts.models import ApiToken
from engine.inbound.webhook_endpoints import create_endpoint
from engine.inbound.webhooks import WebhookError, replay_delivery
from engine.models import WebhookDelivery, WebhookEndpoint
from tests.engine.webhook_signing import deliver

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(make_user: Any) -> dict[str, str]:
    _, raw = ApiToken.issue(make_user("hana", "operators"), "ci")
    return {"Authorization": f"Bearer {raw}"}


def post(client: Client, path: str, headers: dict[str, str], body: Any = None) -> Any:
    return client.post(path, body or {}, content_type="application/json", headers=headers)


@pytest.mark.parametrize(
    ("settings", "field", "message"),
    [
        ({"slug": "Bad Slug"}, "slug", "lowercase letters"),
        ({"event_type": "payment-received"}, "event_type", "Noun.verb"),
        ({"workflow": "no-such-flow"}, "workflow", "no workflow called 'no-such-flow'"),
        ({"input": {"order": "{{ x"}}, "input.order", ""),
        ({"tolerance_seconds": 0}, "tolerance_seconds", "from 1 to 86400"),
        ({"max_body_bytes": 10**9}, "max_body_bytes", "from 1 to 10000000"),
    ],
)
def test_bad_settings_name_the_field_and_create_nothing(
    client: Client, operator: dict[str, str], settings: dict[str, Any], field: str, message: str
) -> None:
    with pytest.raises(WebhookError) as raised:
        create_endpoint(**{"slug": "test-hook", **settings})
    assert raised.value.field == field and message in raised.value.message
    answer = post(client, "/api/webhooks", operator, {"slug": "test-hook", **settings})
    assert answer.status_code == 422
    assert answer.json()["detail"].startswith(f"{field}: ")
    assert not WebhookEndpoint.objects.exists()


def test_the_api_shows_a_secret_when_created_or_rotated_only(
    client: Client, operator: dict[str, str], make_user: Any
) -> None:
    created = post(
        client, "/api/webhooks", operator, {"slug": "test-api-hook", "event_type": "Parcel.paid"}
    )
    assert created.status_code == 201, created.json()
    secret = created.json()["secret"]
    assert secret.startswith("whsec_") and created.json()["url"] == "/hooks/test-api-hook"
    listed = client.get("/api/webhooks", headers=operator).json()
    assert [item["slug"] for item in listed] == ["test-api-hook"]
    assert secret not in str(listed)
    rotated = post(client, "/api/webhooks/test-api-hook/rotate", operator, {"overlap_seconds": 60})
    assert rotated.status_code == 200
    assert rotated.json()["secret"] not in (secret, "")
    assert rotated.json()["previous_secret_until"] is not None
    assert WebhookEndpoint.objects.get().previous_secret == secret
    assert post(client, "/api/webhooks", operator, {"slug": "test-api-hook"}).status_code == 409
    _, raw = ApiToken.issue(make_user("vic", "viewers"), "ci")
    viewer = {"Authorization": f"Bearer {raw}"}
    assert post(client, "/api/webhooks", viewer, {"slug": "test-other"}).status_code == 403
    assert post(client, "/api/webhooks/test-api-hook/rotate", viewer).status_code == 403


def test_a_delivery_waiting_to_be_processed_cannot_be_replayed(
    client: Client, operator: dict[str, str]
) -> None:
    _, secret = create_endpoint("test-waiting", workflow="test-hook-target")
    deliver(client, "test-waiting", secret, {"order": 1}, delivery_id="w-1")
    delivery = WebhookDelivery.objects.get()
    with pytest.raises(WebhookError, match="still waiting to be processed"):
        replay_delivery(delivery.pk)
    answer = post(client, "/api/webhooks/test-waiting/deliveries/w-1/replay", operator)
    assert answer.status_code == 409
    assert WebhookDelivery.objects.get().replays == 0


def test_the_admin_shows_a_new_secret_once(admin_client: Client) -> None:
    added = admin_client.post(
        "/admin/engine/webhookendpoint/add/",
        {
            "slug": "test-admin-hook",
            "title": "Admin hook",
            "active": "on",
            "event_type": "Parcel.paid",
            "workflow": "",
            "input": "",
            "verification": "standard",
            "secret_header": "X-Webhook-Secret",
            "tolerance_seconds": "300",
            "max_body_bytes": "1000000",
        },
    )
    assert added.status_code == 200, added.content
    endpoint = WebhookEndpoint.objects.get()
    page = added.content.decode()
    assert endpoint.secret in page and "shown this once" in page
    assert "no-store" in added["Cache-Control"]
    change = admin_client.get(f"/admin/engine/webhookendpoint/{endpoint.pk}/change/")
    assert change.status_code == 200
    assert endpoint.secret not in change.content.decode()
    assert endpoint.secret not in str(list(LogEntry.objects.values_list("change_message")))

    rotated = admin_client.post(
        "/admin/engine/webhookendpoint/",
        {"action": "rotate_with_overlap", "_selected_action": [endpoint.pk]},
    )
    old = endpoint.secret
    endpoint.refresh_from_db()
    assert rotated.status_code == 200
    assert endpoint.secret != old and endpoint.previous_secret == old
    assert endpoint.secret in rotated.content.decode()
    assert old not in rotated.content.decode()
    listing = admin_client.get("/admin/engine/webhookendpoint/").content.decode()
    assert endpoint.secret not in listing and old not in listing


def test_the_admin_refuses_bad_settings_with_the_reason(admin_client: Client) -> None:
    refused = admin_client.post(
        "/admin/engine/webhookendpoint/add/",
        {
            "slug": "test-admin-bad",
            "event_type": "parcel paid",
            "workflow": "no-such-flow",
            "input": '{"order": "{{ x"}',
            "verification": "standard",
            "secret_header": "X-Webhook-Secret",
            "tolerance_seconds": "300",
            "max_body_bytes": "1000000",
        },
    )
    assert refused.status_code == 200
    form = refused.context["adminform"].form
    assert "Noun.verb" in form.errors["event_type"][0]
    assert "no workflow called 'no-such-flow'" in form.errors["workflow"][0]
    assert "input" in form.errors
    assert not WebhookEndpoint.objects.exists()


def test_the_admin_replays_deliveries_and_lists_subscriptions(
    client: Client, admin_client: Client
) -> None:
    from engine.inbound.webhooks import process_delivery

    _, secret = create_endpoint("test-admin-replay", workflow="test-hook-target")
    deliver(client, "test-admin-replay", secret, {"order": 1}, delivery_id="a-1")
    delivery = WebhookDelivery.objects.get()
    process_delivery(delivery.pk)
    listing = admin_client.get("/admin/engine/webhookdelivery/")
    assert listing.status_code == 200 and "a-1" in listing.content.decode()
    replayed = admin_client.post(
        "/admin/engine/webhookdelivery/",
        {"action": "replay", "_selected_action": [delivery.pk]},
        follow=True,
    )
    assert "1 delivery queued to be replayed" in replayed.content.decode()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.replays) == ("accepted", 1)
    assert admin_client.get("/admin/engine/eventtrigger/").status_code == 200
    detail = admin_client.get(f"/admin/engine/webhookdelivery/{delivery.pk}/change/")
    assert detail.status_code == 200
