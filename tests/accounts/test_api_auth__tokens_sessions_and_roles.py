"""The API accepts a bearer token or a session with CSRF; 401 without, 403 for the wrong role.

Missing or wrong credentials are a 401 on writes too: the CSRF check guards a logged-in session
and comes into play only when there is one (a session's write without its token is a 403)."""

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import ApiToken

pytestmark = pytest.mark.django_db


def bearer(raw: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {raw}"}


def test_missing_credentials_get_401(client: Client) -> None:
    response = client.get("/api/me")
    assert response.status_code == 401
    assert response.json() == {"detail": "Unauthorized", "field": None}
    # RFC 9110: a 401 says which scheme would do.
    assert response["WWW-Authenticate"] == 'Bearer realm="stepwise"'


def test_a_wrong_token_gets_401(client: Client) -> None:
    assert client.get("/api/me", headers=bearer("sw_not-a-real-token")).status_code == 401
    assert client.get("/api/me", headers=bearer("no-prefix")).status_code == 401


# Writes of three kinds: a body-less reset, a run start and an event that could start runs.
WRITES = [
    ("/api/resilience/breakers/x/reset", None),
    ("/api/workflows/api-call/runs", {"input": {}}),
    ("/api/events", {"type": "order.placed", "payload": {}}),
]


def _post(client: Client, path: str, body: Any, **headers: str) -> Any:
    if body is None:
        return client.post(path, headers=headers)
    return client.post(path, body, content_type="application/json", headers=headers)


@pytest.mark.parametrize(("path", "body"), WRITES)
@pytest.mark.parametrize(
    "headers",
    [{}, bearer("sw_wrongtoken"), bearer("no-prefix"), {"Authorization": "Basic eDp5"}],
    ids=["none", "wrong-token", "not-a-token", "another-scheme"],
)
def test_a_write_without_valid_credentials_gets_401_not_a_csrf_refusal(
    path: str, body: Any, headers: dict[str, str]
) -> None:
    from engine.models import Event, Run

    # Browsers and curl meet the CSRF check; Django's test client skips it unless told not to.
    client = Client(enforce_csrf_checks=True)
    response = _post(client, path, body, **headers)
    assert response.status_code == 401, response.content
    assert response.json() == {"detail": "Unauthorized", "field": None}
    assert response["WWW-Authenticate"] == 'Bearer realm="stepwise"'
    assert not Run.objects.exists() and not Event.objects.exists()


def test_a_session_cookie_without_a_live_session_gets_401() -> None:
    client = Client(enforce_csrf_checks=True)
    client.cookies["sessionid"] = "expired-or-made-up"
    response = client.post("/api/events", {"type": "x"}, content_type="application/json")
    assert (response.status_code, response.json()["field"]) == (401, None)


@pytest.mark.parametrize(("path", "body"), WRITES)
def test_a_session_write_without_csrf_is_refused_even_beside_a_wrong_token(
    make_user, path: str, body: Any
) -> None:
    from engine.models import Event, Run

    make_user("oscar", "operators")
    client = Client(enforce_csrf_checks=True)
    assert client.login(username="oscar", password="correct horse battery")
    for headers in ({}, bearer("sw_wrongtoken")):
        response = _post(client, path, body, **headers)
        assert response.status_code == 403, response.content
        assert response.json() == {"detail": "CSRF check Failed", "field": None}
    assert not Run.objects.exists() and not Event.objects.exists()


def test_a_valid_token_needs_no_csrf_token(make_user) -> None:
    from engine.models import Run

    _, raw = ApiToken.issue(make_user("olga", "operators"), "ci")
    client = Client(enforce_csrf_checks=True)
    response = _post(client, "/api/workflows/api-call/runs", {"input": {}}, **bearer(raw))
    assert response.status_code == 201, response.content
    assert Run.objects.filter(workflow="api-call").count() == 1


def test_a_valid_token_identifies_the_user_and_their_roles(client: Client, make_user) -> None:
    user = make_user("olga", "operators")
    _, raw = ApiToken.issue(user, "ci")
    response = client.get("/api/me", headers=bearer(raw))
    assert response.status_code == 200
    body = response.json()
    assert body["username"] == "olga"
    assert body["roles"] == ["operators"]
    assert "start_runs" in body["capabilities"]
    assert "publish_workflows" not in body["capabilities"]


def test_the_token_is_stored_only_as_a_hash(make_user) -> None:
    token, raw = ApiToken.issue(make_user("hash"), "ci")
    stored = ApiToken.objects.get(pk=token.pk)
    assert raw not in (stored.digest, stored.prefix, stored.name)
    assert len(stored.digest) == 64
    assert raw.startswith(stored.prefix)


def test_revoked_expired_and_inactive_tokens_get_401(client: Client, make_user) -> None:
    revoked, revoked_raw = ApiToken.issue(make_user("r"), "old")
    revoked.revoked_at = timezone.now()
    revoked.save(update_fields=["revoked_at"])
    _, expired_raw = ApiToken.issue(make_user("e"), "old", timezone.now() - timedelta(seconds=1))
    _, inactive_raw = ApiToken.issue(make_user("i", is_active=False), "old")
    for raw in (revoked_raw, expired_raw, inactive_raw):
        assert client.get("/api/me", headers=bearer(raw)).status_code == 401


def test_using_a_token_records_when_it_was_last_used(client: Client, make_user) -> None:
    token, raw = ApiToken.issue(make_user("used"), "ci")
    assert token.last_used_at is None
    client.get("/api/me", headers=bearer(raw))
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_a_session_works_for_reads(make_user) -> None:
    make_user("sam", "viewers")
    client = Client()
    assert client.login(username="sam", password="correct horse battery")
    assert client.get("/api/me").json()["username"] == "sam"


def test_a_session_write_without_csrf_is_refused_and_changes_nothing(make_user) -> None:
    from engine.models import WorkerProbe

    make_user("oscar", "operators")
    client = Client(enforce_csrf_checks=True)
    assert client.login(username="oscar", password="correct horse battery")
    response = client.post("/api/system/worker-probes")
    assert response.status_code == 403
    assert "CSRF" in response.content.decode()
    assert not WorkerProbe.objects.exists()


def test_a_session_write_with_csrf_is_accepted(make_user) -> None:
    make_user("oscar", "operators")
    client = Client(enforce_csrf_checks=True)
    assert client.login(username="oscar", password="correct horse battery")
    client.get("/login/")  # any page sets the CSRF cookie
    client.get("/")
    token = client.cookies["csrftoken"].value
    response = client.post("/api/system/worker-probes", headers={"X-CSRFToken": token})
    assert response.status_code == 202


def test_a_role_that_may_not_do_the_thing_gets_403(client: Client, make_user) -> None:
    from engine.models import WorkerProbe

    _, viewer = ApiToken.issue(make_user("vera", "viewers"), "ci")
    _, designer = ApiToken.issue(make_user("dina", "designers"), "ci")
    _, nobody = ApiToken.issue(make_user("nora"), "ci")
    for raw in (viewer, designer, nobody):
        response = client.post("/api/system/worker-probes", headers=bearer(raw))
        assert response.status_code == 403
        assert response.json()["detail"] == "your roles do not allow: run diagnostics"
    assert not WorkerProbe.objects.exists()


def test_a_user_without_any_role_cannot_read(client: Client, make_user) -> None:
    _, operator = ApiToken.issue(make_user("op", "operators"), "ci")
    probe_id = client.post("/api/system/worker-probes", headers=bearer(operator)).json()["id"]
    _, nobody = ApiToken.issue(make_user("nora"), "ci")
    _, viewer = ApiToken.issue(make_user("vera", "viewers"), "ci")
    assert (
        client.get(f"/api/system/worker-probes/{probe_id}", headers=bearer(nobody)).status_code
        == 403
    )
    assert (
        client.get(f"/api/system/worker-probes/{probe_id}", headers=bearer(viewer)).status_code
        == 200
    )


def test_a_superuser_may_do_everything(client: Client, make_user) -> None:
    _, raw = ApiToken.issue(make_user("root", is_superuser=True), "ci")
    assert client.post("/api/system/worker-probes", headers=bearer(raw)).status_code == 202


def test_an_unknown_probe_is_404_not_500(client: Client, make_user) -> None:
    _, raw = ApiToken.issue(make_user("vera", "viewers"), "ci")
    assert client.get("/api/system/worker-probes/999999", headers=bearer(raw)).status_code == 404
    response = client.get("/api/system/worker-probes/abc", headers=bearer(raw))
    assert response.status_code == 422
    assert "probe_id" in str(response.json())
