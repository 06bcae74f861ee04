"""`load_demo` (run by `make run`) creates the demo users, whose passwords are published, and the
demo workflows that name them only in a fresh embedded database or when STEPWISE_DEMO=1, and
says why it skipped them otherwise."""

from io import StringIO
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command

from designer.models import Workflow

pytestmark = pytest.mark.django_db

DEMO_USERNAMES = {"admin", "designer", "operator", "approver", "viewer"}


def load_demo() -> str:
    out = StringIO()
    call_command("load_demo", stdout=out)
    return out.getvalue()


def demo_users() -> set[str]:
    return set(User.objects.filter(username__in=DEMO_USERNAMES).values_list("username", flat=True))


@pytest.fixture
def embedded(settings: Any) -> Any:
    """The embedded default: no DATABASE_URL."""
    settings.DATABASE_URL = ""
    settings.STEPWISE_DEMO = False
    return settings


def test_a_fresh_embedded_database_gets_the_demo_users_and_their_logins(embedded) -> None:
    printed = load_demo()
    assert demo_users() == DEMO_USERNAMES
    assert "stepwise-admin" in printed and "Skipped" not in printed
    assert Workflow.objects.filter(slug="canvas-expense-approval").exists()


def test_with_a_database_url_none_is_created_and_the_reason_is_printed(settings) -> None:
    settings.DATABASE_URL = "postgres://stepwise@db.internal/stepwise"
    settings.STEPWISE_DEMO = False
    printed = load_demo()
    assert demo_users() == set()
    assert "Skipped the demo users and workflows: DATABASE_URL is set" in printed
    assert "STEPWISE_DEMO=1" in printed
    assert "stepwise-" not in printed
    assert not Workflow.objects.exists()  # they name the demo users


def test_a_database_with_other_users_gets_none_and_a_warning_about_old_ones(
    embedded, make_user
) -> None:
    make_user("alice", "designers")
    User.objects.create_user("viewer", password="stepwise-viewer")  # made by an earlier run
    printed = load_demo()
    assert demo_users() == {"viewer"}
    assert "workflows: the database already has 1 other user" in printed
    assert "viewer still has its published password" in printed
    assert "stepwise-viewer" not in printed


def test_stepwise_demo_asks_for_them_anywhere(embedded, make_user) -> None:
    embedded.DATABASE_URL = "postgres://stepwise@db.internal/stepwise"
    embedded.STEPWISE_DEMO = True
    make_user("alice")
    load_demo()
    assert demo_users() == DEMO_USERNAMES
