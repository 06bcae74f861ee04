"""Demo users for the embedded default: one per role plus an administrator."""

from dataclasses import dataclass

from django.contrib.auth.models import Group, User
from django.db import transaction

from accounts.roles import Role, ensure_role_groups


@dataclass(frozen=True)
class DemoUser:
    username: str
    password: str
    role: Role | None
    is_admin: bool = False


DEMO_USERS = (
    DemoUser("admin", "stepwise-admin", None, is_admin=True),
    DemoUser("designer", "stepwise-designer", Role.DESIGNER),
    DemoUser("operator", "stepwise-operator", Role.OPERATOR),
    DemoUser("approver", "stepwise-approver", Role.APPROVER),
    DemoUser("viewer", "stepwise-viewer", Role.VIEWER),
)


@dataclass(frozen=True)
class DemoLogin:
    user: DemoUser
    created: bool
    password_unchanged: bool


def ensure_demo_users() -> list[DemoLogin]:
    """Create missing demo users; existing ones keep the password their owner may have set."""
    logins = []
    with transaction.atomic():
        ensure_role_groups()
        for demo in DEMO_USERS:
            user, created = User.objects.get_or_create(username=demo.username)
            if created:
                user.set_password(demo.password)
                user.email = f"{demo.username}@example.com"
                user.is_staff = demo.is_admin or demo.role == Role.OPERATOR
                user.is_superuser = demo.is_admin
                user.save()
            if demo.role is not None:
                user.groups.add(Group.objects.get(name=demo.role.value))
            logins.append(DemoLogin(demo, created, user.check_password(demo.password)))
    return logins
