"""An administrator creates a token in the admin, sees it once (on the page, never in a
cookie), and can revoke it; a token expires after the default lifetime unless given a date."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

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
    assert "no-store" in response["Cache-Control"]
    shown = re.search(r'class="api-token">(sw_[A-Za-z0-9_\-]+)<', response.content.decode())
    assert shown, "the new token is shown on the page after saving"
    token = ApiToken.objects.get()
    assert (token.user, token.name) == (owner, "deploy bot")
    # Messages may live in a cookie, which is signed but readable: the token is in none.
    assert all(shown.group(1) not in morsel.value for morsel in client.cookies.values())
    assert token.expires_at is not None
    assert token.expires_at - timezone.now() > timedelta(days=89)

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


def test_the_add_form_proposes_the_default_expiry(client: Client, make_user, settings) -> None:
    settings.STEPWISE_API_TOKEN_DAYS = 30
    client.force_login(make_user("root", is_staff=True, is_superuser=True))
    page = client.get("/admin/accounts/apitoken/add/").content.decode()
    assert (timezone.now() + timedelta(days=30)).strftime("%Y-%m-%d") in page
