"""Demo users for the embedded default: one per role plus an administrator.

Their passwords are published (in the README and on every `make run`), so they are created only
where nobody else could be exposed by them: a fresh embedded database, or when asked.
"""

from dataclasses import dataclass

from django.conf import settings
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


def why_not_create_demo_users() -> str | None:
    """Why demo users must not be created in this database, or None when they may be."""
    if settings.STEPWISE_DEMO:
        return None
    if settings.DATABASE_URL:
        return "DATABASE_URL is set, so this may be a shared or production database"
    others = User.objects.exclude(username__in=[demo.username for demo in DEMO_USERS]).count()
    if others:
        return f"the database already has {others} other user{'s' if others > 1 else ''}"
    return None


def demo_users_with_published_passwords() -> list[str]:
    """The demo users in this database whose password is still the published one."""
    passwords = {demo.username: demo.password for demo in DEMO_USERS}
    users = User.objects.filter(username__in=passwords)
    return sorted(user.username for user in users if user.check_password(passwords[user.username]))


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
