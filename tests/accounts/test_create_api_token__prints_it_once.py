"""`manage.py create_api_token <username>` prints a working token once and stores its hash."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from accounts.models import ApiToken, digest_token

pytestmark = pytest.mark.django_db


def test_prints_a_token_that_authenticates(make_user) -> None:
    make_user("ada", "designers")
    out, err = StringIO(), StringIO()
    call_command("create_api_token", "ada", "--name", "laptop", stdout=out, stderr=err)
    raw = out.getvalue().strip()
    assert raw.startswith("sw_")
    assert "only this once" in err.getvalue()
    stored = ApiToken.objects.get(user__username="ada")
    assert stored.name == "laptop"
    assert stored.digest == digest_token(raw)
    response = Client().get("/api/me", headers={"Authorization": f"Bearer {raw}"})
    assert response.json()["username"] == "ada"


def test_expiry_in_days_is_recorded(make_user) -> None:
    make_user("ada")
    call_command(
        "create_api_token", "ada", "--expires-in-days", "7", stdout=StringIO(), stderr=StringIO()
    )
    lifetime = ApiToken.objects.get().expires_at - timezone.now()
    assert timedelta(days=6) < lifetime <= timedelta(days=7)


def test_without_a_date_a_token_expires_after_the_default_days(make_user, settings) -> None:
    """STEPWISE_API_TOKEN_DAYS (90 unless set) bounds every token nobody gave a date."""
    make_user("ada")
    err = StringIO()
    call_command("create_api_token", "ada", stdout=StringIO(), stderr=err)
    lifetime = ApiToken.objects.get().expires_at - timezone.now()
    assert timedelta(days=89) < lifetime <= timedelta(days=90)
    assert "It stops working at" in err.getvalue()
    settings.STEPWISE_API_TOKEN_DAYS = 0
    unbounded, _ = ApiToken.issue(ApiToken.objects.get().user, "until revoked")
    assert unbounded.expires_at is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ghost"], "username: no user called 'ghost'"),
        (["ada", "--expires-in-days", "0"], "--expires-in-days: must be a positive"),
    ],
)
def test_bad_input_names_the_field_and_creates_nothing(make_user, args, message) -> None:
    make_user("ada")
    with pytest.raises(CommandError, match=message):
        call_command("create_api_token", *args, stdout=StringIO(), stderr=StringIO())
    assert not ApiToken.objects.exists()
