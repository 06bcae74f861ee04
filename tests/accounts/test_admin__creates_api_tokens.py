"""An administrator creates a token in the admin, sees it once, and can revoke it."""

import re

import pytest
from django.test import Client

from accounts.models import ApiToken

pytestmark = pytest.mark.django_db


def test_the_admin_creates_a_token_and_shows_it_once(client: Client, make_user) -> None:
    client.force_login(make_user("root", is_staff=True, is_superuser=True))
    owner = make_user("olga", "operators")
    response = client.post(
        "/admin/accounts/apitoken/add/",
        {"user": owner.pk, "name": "deploy bot", "expires_at_0": "", "expires_at_1": ""},
        follow=True,
    )
    assert response.status_code == 200
    shown = re.search(r"(sw_[A-Za-z0-9_\-]+) — copy it now", response.content.decode())
    assert shown, "the new token is shown on the page after saving"
    token = ApiToken.objects.get()
    assert (token.user, token.name) == (owner, "deploy bot")

    api = Client().get("/api/me", headers={"Authorization": f"Bearer {shown.group(1)}"})
    assert api.json()["username"] == "olga"

    detail = client.get(f"/admin/accounts/apitoken/{token.pk}/change/").content.decode()
    assert shown.group(1) not in detail


def test_the_revoke_action_stops_a_token(client: Client, make_user) -> None:
    client.force_login(make_user("root", is_staff=True, is_superuser=True))
    token, raw = ApiToken.issue(make_user("olga"), "old")
    client.post(
        "/admin/accounts/apitoken/",
        {"action": "revoke", "_selected_action": [token.pk]},
    )
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert Client().get("/api/me", headers={"Authorization": f"Bearer {raw}"}).status_code == 401
