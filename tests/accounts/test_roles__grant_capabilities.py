"""Each role grants what the design says, and the demo users hold one role each."""

from io import StringIO

import pytest
from django.contrib.auth.models import AnonymousUser, Group
from django.core.exceptions import PermissionDenied
from django.core.management import call_command

from accounts.roles import Capability, Role, can, capabilities_of, require

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("role", "allowed", "refused"),
    [
        (
            Role.DESIGNER,
            {Capability.EDIT_WORKFLOWS, Capability.PUBLISH_WORKFLOWS},
            {Capability.START_RUNS, Capability.DECIDE_TASKS},
        ),
        (
            Role.OPERATOR,
            {
                Capability.START_RUNS,
                Capability.CANCEL_RUNS,
                Capability.RETRY_RUNS,
                Capability.EDIT_SCHEDULES,
            },
            {Capability.PUBLISH_WORKFLOWS, Capability.DECIDE_TASKS},
        ),
        (
            Role.APPROVER,
            {Capability.DECIDE_TASKS},
            {Capability.START_RUNS, Capability.EDIT_WORKFLOWS},
        ),
        (Role.VIEWER, {Capability.VIEW}, set(Capability) - {Capability.VIEW}),
    ],
)
def test_role_capabilities(make_user, role, allowed, refused) -> None:
    user = make_user(f"u-{role}", role.value)
    granted = capabilities_of(user)
    assert Capability.VIEW in granted
    assert allowed <= granted
    assert not (refused & granted)


def test_anonymous_and_inactive_users_can_do_nothing(make_user) -> None:
    assert capabilities_of(AnonymousUser()) == frozenset()
    assert capabilities_of(make_user("gone", "operators", is_active=False)) == frozenset()


def test_require_raises_permission_denied_with_the_capability(make_user) -> None:
    user = make_user("vera", "viewers")
    assert can(user, Capability.VIEW)
    with pytest.raises(PermissionDenied, match="start runs"):
        require(user, Capability.START_RUNS)


def test_load_demo_creates_one_user_per_role_and_prints_logins(settings) -> None:
    settings.STEPWISE_DEMO = True  # the suite's database has a DATABASE_URL
    out = StringIO()
    call_command("load_demo", stdout=out)
    printed = out.getvalue()
    for role in Role:
        assert Group.objects.get(name=role.value).user_set.count() == 1
    for username, password in [("designer", "stepwise-designer"), ("admin", "stepwise-admin")]:
        assert f"{username}" in printed and password in printed


def test_load_demo_twice_keeps_a_changed_password(django_user_model, settings) -> None:
    settings.STEPWISE_DEMO = True
    call_command("load_demo", stdout=StringIO())
    user = django_user_model.objects.get(username="viewer")
    user.set_password("my own secret phrase")
    user.save()
    out = StringIO()
    call_command("load_demo", stdout=out)
    assert "(changed by its owner)" in out.getvalue()
    user.refresh_from_db()
    assert user.check_password("my own secret phrase")
