"""Secrets are an allow-list per workflow, kept by administrators and audited: an HTTP node sends
a secret only when the run's workflow holds a grant, only as a whole `{{ secrets.NAME }}`
template in what a request sends, never computed with; a URL that carried one is journaled
without its query. Validation says all of this before publishing."""

from collections.abc import Iterator
from typing import Any

import pytest
from django.test import override_settings
from django.utils import timezone

from accounts.models import ApiToken
from engine.core.expressions import ExpressionError
from engine.graph.nodes import http
from engine.graph.nodes.base import CheckContext, NodeContext
from engine.graph.validate import validate_graph
from engine.models import Run, SecretGrant, SecretGrantEvent
from engine.outbound.grants import SecretNotGranted, grant_secret, revoke_secret
from engine.outbound.secrets import ONLY_IN_REQUESTS, ONLY_WHOLE
from tests.engine.graph.graphs import graph
from tests.engine.graph.local_server import LocalServer, Reply

pytestmark = pytest.mark.django_db
SECRET = "tok-5e3c1a"


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalServer]:
    monkeypatch.setenv("STEPWISE_SECRET_CRM_TOKEN", SECRET)
    with LocalServer() as running:
        running.route("GET", "/leads", Reply(200, {"ok": True}))
        with override_settings(STEPWISE_HTTP_ALLOWLIST=[f"127.0.0.1:{running.port}"]):
            yield running


def run_of(workflow: str) -> int:
    return Run.objects.create(workflow=workflow, version="1", created_at=timezone.now()).pk


def call(run_id: int, config: dict[str, Any]) -> Any:
    context = NodeContext(
        node_id="call", config=config, scope={"input": {}}, run_id=run_id, idempotency_key="k"
    )
    return http.execute(context).output


def test_a_secret_is_sent_only_by_a_workflow_holding_its_grant(server: LocalServer) -> None:
    config = {"url": server.url("/leads"), "headers": {"X-Key": "{{ secrets.crm_token }}"}}
    with pytest.raises(SecretNotGranted, match="CRM_TOKEN"):
        call(run_of("crm-sync"), config)
    assert server.requests == []  # refused before anything was read or sent

    grant_secret("crm-sync", "crm_token", None, "CRM integration")
    call(run_of("crm-sync"), config)
    assert server.requests[-1].headers["x-key"] == SECRET
    with pytest.raises(SecretNotGranted):
        call(run_of("other-workflow"), config)  # a grant is for one workflow

    revoke_secret("crm-sync", "CRM_TOKEN", None)
    with pytest.raises(SecretNotGranted):
        call(run_of("crm-sync"), config)
    assert len(server.requests) == 1
    assert list(SecretGrantEvent.objects.order_by("id").values_list("action", "name")) == [
        ("granted", "CRM_TOKEN"),
        ("revoked", "CRM_TOKEN"),
    ]


@pytest.mark.parametrize(
    "template",
    [
        "{{ size(secrets.CRM_TOKEN) }}",
        "{{ secrets.CRM_TOKEN.startsWith('tok') }}",
        "{{ secrets.CRM_TOKEN + 'x' }}",
    ],
)
def test_no_expression_can_compute_with_a_secret(server: LocalServer, template: str) -> None:
    grant_secret("crm-sync", "CRM_TOKEN", None)
    with pytest.raises(ExpressionError, match="secrets"):
        call(run_of("crm-sync"), {"url": server.url("/leads"), "headers": {"X-Len": template}})
    assert server.requests == []


def test_a_url_that_carried_a_secret_is_journaled_without_its_query(server: LocalServer) -> None:
    grant_secret("crm-sync", "CRM_TOKEN", None)
    query = {"key": "{{ secrets.CRM_TOKEN }}", "page": "2"}
    output = call(run_of("crm-sync"), {"url": server.url("/leads"), "query": query})
    assert server.requests[0].query["key"] == [SECRET]
    assert output["url"].endswith("/leads?[hidden: a secret went into the query]")
    assert "page" not in output["url"] and SECRET not in str(output)


def problems(document: dict[str, Any], granted: bool = True) -> list[tuple[str, str, str]]:
    context = CheckContext(secret_granted=lambda name: granted)
    return [(p.node or "", p.field, p.message) for p in validate_graph(document, context)]


def one_node(node_type: str, config: dict[str, Any]) -> dict[str, Any]:
    return graph([("start", "trigger.manual"), ("n", node_type, config)], ["start>n"])


def test_validation_names_every_misuse_before_publishing() -> None:
    whole = {"url": "https://api.example.com/{{ secrets.CRM_TOKEN }}"}
    assert problems(one_node("action.http", whole)) == []
    assert problems(one_node("action.http", whole), granted=False) == [
        (
            "n",
            "config.url",
            "the secret CRM_TOKEN is not granted to this workflow: an administrator grants it "
            "(in the admin, Secret grants)",
        )
    ]
    derived = {"url": "https://x.example", "headers": {"X-Len": "{{ size(secrets.CRM_TOKEN) }}"}}
    assert problems(one_node("action.http", derived)) == [("n", "config.headers.X-Len", ONLY_WHOLE)]
    mailed = {"to": ["ops@example.com"], "subject": "s", "body": "key {{ secrets.CRM_TOKEN }}"}
    assert ("n", "config.body", ONLY_IN_REQUESTS) in problems(one_node("action.email", mailed))
    condition = {"expression": "secrets.CRM_TOKEN.startsWith('a')"}
    assert ("n", "config.expression", ONLY_IN_REQUESTS) in problems(
        one_node("logic.condition", condition)
    )


@pytest.fixture
def as_user(client: Any, make_user: Any) -> Any:
    def caller(user: Any) -> Any:
        _, raw = ApiToken.issue(user, "ci")
        headers = {"Authorization": f"Bearer {raw}"}

        def call(method: str, path: str, body: Any = None) -> Any:
            return getattr(client, method)(
                path, body or {}, content_type="application/json", headers=headers
            )

        return call

    return caller


def test_administrators_grant_through_the_api_and_nobody_else(as_user: Any, make_user: Any) -> None:
    admin = as_user(make_user("root", is_superuser=True, is_staff=True))
    designer = as_user(make_user("dana", "designers"))
    operator = as_user(make_user("olga", "operators"))
    for someone in (designer, operator):
        refused = someone("post", "/api/workflows/crm-sync/secrets", {"name": "CRM_TOKEN"})
        assert refused.status_code == 403
    assert not SecretGrant.objects.exists()

    bad = admin("post", "/api/workflows/crm-sync/secrets", {"name": "crm-token!"})
    assert bad.status_code == 422 and bad.json()["field"] == "name"
    granted = admin("post", "/api/workflows/crm-sync/secrets", {"name": "crm_token", "note": "CRM"})
    assert granted.status_code == 201
    listed = designer("get", "/api/workflows/crm-sync/secrets").json()
    assert [(g["name"], g["granted_by"]) for g in listed["grants"]] == [("CRM_TOKEN", "root")]
    assert SECRET not in str(listed)
    assert designer("delete", "/api/workflows/crm-sync/secrets/CRM_TOKEN").status_code == 403
    assert admin("delete", "/api/workflows/crm-sync/secrets/CRM_TOKEN").status_code == 200
    assert admin("delete", "/api/workflows/crm-sync/secrets/CRM_TOKEN").status_code == 404
    history = designer("get", "/api/workflows/crm-sync/secrets").json()["history"]
    assert [(h["action"], h["actor"]) for h in history] == [
        ("revoked", "root"),
        ("granted", "root"),
    ]


def test_the_admin_grants_and_revokes_with_the_audit_trail(client: Any, make_user: Any) -> None:
    client.force_login(make_user("root", is_superuser=True, is_staff=True))
    added = client.post(
        "/admin/engine/secretgrant/add/",
        {"workflow": "crm-sync", "name": "crm_token", "note": "from the admin"},
    )
    assert added.status_code == 302
    grant = SecretGrant.objects.get()
    assert grant.granted_by is not None
    assert (grant.workflow, grant.name, grant.granted_by.username) == (
        "crm-sync",
        "CRM_TOKEN",
        "root",
    )
    deleted = client.post(f"/admin/engine/secretgrant/{grant.pk}/delete/", {"post": "yes"})
    assert deleted.status_code == 302 and not SecretGrant.objects.exists()
    assert list(
        SecretGrantEvent.objects.order_by("id").values_list("action", "actor__username")
    ) == [
        ("granted", "root"),
        ("revoked", "root"),
    ]
