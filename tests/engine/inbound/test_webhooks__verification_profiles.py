"""Every verification profile accepts a good delivery and refuses, changing nothing, a tampered
body or a wrong secret (401), a stale timestamp where the sender signs one (401) and an id seen
before (409). Standard Webhooks signs the id: a captured delivery sent again under a fresh
`webhook-id` is refused. Secrets are checked against the profile they serve, and the profile
is changed through the API and the admin.
"""

import json
import time
import uuid
from typing import Any

import pytest
from django.test import Client

from accounts.models import ApiToken
from engine.inbound.webhook_endpoints import create_endpoint, update_endpoint
from engine.inbound.webhooks import WebhookError
from engine.models import Event, Run, WebhookDelivery, WebhookEndpoint
from tests.engine.webhook_signing import deliver, sign_standard, signed_headers

pytestmark = pytest.mark.django_db

PROFILES = ["standard", "stepwise-legacy", "stripe", "github", "slack", "shared-secret"]
SIGNS_A_TIME = ["standard", "stepwise-legacy", "stripe", "slack"]
SIGNS_THE_BODY = [profile for profile in PROFILES if profile != "shared-secret"]
# Secrets as the senders make them: Stripe's and Slack's are not base64 keys.
SENDER_SECRETS = {
    "stripe": "whsec_made-by-stripe_0123456789abcdef",
    "slack": "8f742231b10e8888abcd99yyyzzz85a5",
}


def counts() -> tuple[int, int, int]:
    return WebhookDelivery.objects.count(), Event.objects.count(), Run.objects.count()


def make(profile: str) -> str:
    _, secret = create_endpoint(
        "test-signed",
        workflow="test-hook-target",
        verification=profile,
        secret=SENDER_SECRETS.get(profile),
    )
    return secret


def payload(number: int = 1) -> dict[str, Any]:
    """A body carrying the ids Stripe (`id`) and Slack (`event_id`) put in theirs."""
    return {"id": f"evt_{number}", "event_id": f"Ev0{number}", "data": {"amount": number}}


def send(client: Client, profile: str, secret: str, body: Any, **options: Any) -> Any:
    return deliver(client, "test-signed", secret, body, profile=profile, **options)


@pytest.mark.parametrize("profile", PROFILES)
def test_a_good_delivery_is_accepted_under_the_senders_id(client: Client, profile: str) -> None:
    secret = make(profile)
    answer = send(client, profile, secret, payload(), delivery_id="dlv-42")
    assert answer.status_code == 202, answer.json()
    expected = {"stripe": "evt_1", "slack": "Ev01"}.get(profile, "dlv-42")
    assert answer.json()["delivery"] == expected
    delivery = WebhookDelivery.objects.get()
    assert json.loads(delivery.body) == payload()
    assert not any("signature" in name.lower() for name in delivery.headers)
    assert "X-Webhook-Secret" not in delivery.headers


@pytest.mark.parametrize("profile", SIGNS_THE_BODY)
def test_a_tampered_body_is_refused(client: Client, profile: str) -> None:
    secret = make(profile)
    signed = json.dumps(payload()).encode()
    headers = signed_headers(profile, secret, signed, "dlv-1", int(time.time()))
    tampered = signed.replace(b'"amount": 1', b'"amount": 1000')
    answer = deliver(client, "test-signed", None, body=tampered, headers=headers)
    assert answer.status_code == 401
    assert "does not match" in answer.json()["detail"]
    assert counts() == (0, 0, 0)


@pytest.mark.parametrize("profile", PROFILES)
def test_a_wrong_or_missing_secret_is_refused(client: Client, profile: str) -> None:
    make(profile)
    wrong = send(client, profile, "whsec_" + "A" * 44, payload())
    assert wrong.status_code == 401, wrong.json()
    missing = send(client, profile, None, payload())  # type: ignore[arg-type]
    assert missing.status_code == 401
    assert "missing" in missing.json()["detail"]
    assert counts() == (0, 0, 0)


@pytest.mark.parametrize("profile", SIGNS_A_TIME)
@pytest.mark.parametrize("offset", [-400, 400])
def test_a_stale_timestamp_is_refused(client: Client, profile: str, offset: int) -> None:
    secret = make(profile)
    answer = send(client, profile, secret, payload(), timestamp=int(time.time()) + offset)
    assert answer.status_code == 401
    assert "the tolerance is 300 s" in answer.json()["detail"]
    assert counts() == (0, 0, 0)


@pytest.mark.parametrize("profile", PROFILES)
def test_an_id_seen_before_is_refused_even_signed_anew(client: Client, profile: str) -> None:
    secret = make(profile)
    assert send(client, profile, secret, payload(), delivery_id="dlv-7").status_code == 202
    later = int(time.time()) + 5  # signed again, as a sender's retry is
    again = send(client, profile, secret, payload(), delivery_id="dlv-7", timestamp=later)
    assert again.status_code == 409
    assert "was received before" in again.json()["detail"]
    assert counts() == (1, 0, 0)


def test_a_captured_standard_delivery_under_a_fresh_id_is_refused(client: Client) -> None:
    """The replay the earlier scheme let through: the id is part of what is signed."""
    secret = make("standard")
    body = json.dumps(payload()).encode()
    captured = signed_headers("standard", secret, body, "dlv-1", int(time.time()))
    assert deliver(client, "test-signed", None, body=body, headers=captured).status_code == 202
    for changed in ({"webhook-id": f"dlv-{uuid.uuid4().hex}"}, {"webhook-timestamp": "1"}):
        replayed = deliver(client, "test-signed", None, body=body, headers=captured | changed)
        assert replayed.status_code == 401, replayed.json()
    assert counts() == (1, 0, 0)


def test_standard_takes_several_signatures_and_ignores_other_versions(client: Client) -> None:
    secret = make("standard")
    body = json.dumps(payload()).encode()
    moment = int(time.time())
    good = sign_standard(secret, "dlv-9", body, moment)
    headers = {
        "webhook-id": "dlv-9",
        "webhook-timestamp": str(moment),
        "webhook-signature": f"v1,bm90IGl0 v1a,{good[3:]} {good}",
    }
    assert deliver(client, "test-signed", None, body=body, headers=headers).status_code == 202
    alone = headers | {"webhook-id": "dlv-10", "webhook-signature": f"v1a,{good[3:]}"}
    refused = deliver(client, "test-signed", None, body=body, headers=alone)
    assert refused.status_code == 401
    assert "must read v1,<base64>" in refused.json()["detail"]


def test_a_secret_must_fit_its_profile() -> None:
    with pytest.raises(WebhookError) as raised:
        create_endpoint("test-std", verification="standard", secret=SENDER_SECRETS["stripe"])
    assert raised.value.field == "secret" and "base64" in raised.value.message
    endpoint, _ = create_endpoint(
        "test-old", verification="stepwise-legacy", secret="whsec_an-old_urlsafe-secret-1234"
    )
    with pytest.raises(WebhookError) as raised:
        update_endpoint(endpoint, verification="standard")
    assert raised.value.field == "verification" and "rotate" in raised.value.message
    assert update_endpoint(endpoint, verification="github").verification == "github"
    with pytest.raises(WebhookError) as raised:
        update_endpoint(endpoint, secret_header="Authorization")
    assert raised.value.field == "secret_header"


def test_the_api_and_the_admin_change_the_profile(
    client: Client, admin_client: Client, make_user: Any
) -> None:
    _, raw = ApiToken.issue(make_user("hana", "operators"), "ci")
    operator = {"Authorization": f"Bearer {raw}"}
    created = client.post(
        "/api/webhooks",
        {"slug": "test-signed", "verification": "slack", "secret": SENDER_SECRETS["slack"]},
        content_type="application/json",
        headers=operator,
    )
    assert created.status_code == 201, created.json()
    assert created.json()["verification"] == "slack"
    changed = client.patch(
        "/api/webhooks/test-signed",
        {"verification": "shared-secret", "secret_header": "X-Gitlab-Token"},
        content_type="application/json",
        headers=operator,
    )
    assert changed.status_code == 200, changed.json()
    assert (changed.json()["verification"], changed.json()["secret_header"]) == (
        "shared-secret",
        "X-Gitlab-Token",
    )
    bad = client.patch(
        "/api/webhooks/test-signed",
        {"verification": "carrier-pigeon"},
        content_type="application/json",
        headers=operator,
    )
    assert bad.status_code == 422 and bad.json()["detail"].startswith("verification: ")
    sent = deliver(
        client,
        "test-signed",
        None,
        payload(),
        headers={"X-Gitlab-Token": SENDER_SECRETS["slack"], "webhook-id": "g-1"},
    )
    assert sent.status_code == 202, sent.json()

    endpoint = WebhookEndpoint.objects.get()
    page = admin_client.post(
        f"/admin/engine/webhookendpoint/{endpoint.pk}/change/",
        {
            "title": "",
            "active": "on",
            "event_type": "",
            "workflow": "test-hook-target",
            "input": "",
            "verification": "stripe",
            "secret_header": "X-Webhook-Secret",
            "sender_secret": SENDER_SECRETS["stripe"],
            "tolerance_seconds": "300",
            "max_body_bytes": "1000000",
        },
        follow=True,
    )
    assert page.status_code == 200
    endpoint.refresh_from_db()
    assert (endpoint.verification, endpoint.secret) == ("stripe", SENDER_SECRETS["stripe"])
    assert SENDER_SECRETS["stripe"] not in page.content.decode()
    assert send(client, "stripe", SENDER_SECRETS["stripe"], payload(5)).status_code == 202
