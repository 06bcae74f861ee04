"""Roles are Django groups; each grants a set of capabilities that views and the API check."""

from enum import StrEnum

from django.contrib.auth.models import AnonymousUser, Group, User
from django.core.exceptions import PermissionDenied


class Role(StrEnum):
    DESIGNER = "designers"
    OPERATOR = "operators"
    APPROVER = "approvers"
    VIEWER = "viewers"


class Capability(StrEnum):
    VIEW = "view"
    EDIT_WORKFLOWS = "edit_workflows"
    PUBLISH_WORKFLOWS = "publish_workflows"
    START_RUNS = "start_runs"
    CANCEL_RUNS = "cancel_runs"
    RETRY_RUNS = "retry_runs"
    EDIT_SCHEDULES = "edit_schedules"
    DECIDE_TASKS = "decide_tasks"
    REASSIGN_TASKS = "reassign_tasks"
    RUN_DIAGNOSTICS = "run_diagnostics"
    # Clear values of input fields marked sensitive (docs/sensitive-data.md): granted by a
    # role, never by anything a user writes into a run.
    READ_SENSITIVE = "read_sensitive"
    RESET_BREAKERS = "reset_breakers"


ROLE_CAPABILITIES: dict[Role, frozenset[Capability]] = {
    Role.DESIGNER: frozenset(
        {Capability.VIEW, Capability.EDIT_WORKFLOWS, Capability.PUBLISH_WORKFLOWS}
    ),
    Role.OPERATOR: frozenset(
        {
            Capability.VIEW,
            Capability.START_RUNS,
            Capability.CANCEL_RUNS,
            Capability.RETRY_RUNS,
            Capability.EDIT_SCHEDULES,
            Capability.RUN_DIAGNOSTICS,
            Capability.REASSIGN_TASKS,
            Capability.READ_SENSITIVE,
            Capability.RESET_BREAKERS,
        }
    ),
    # Approvers may decide only the tasks assigned to them; the task check adds that.
    Role.APPROVER: frozenset({Capability.VIEW, Capability.DECIDE_TASKS}),
    Role.VIEWER: frozenset({Capability.VIEW}),
}

ROLE_DESCRIPTIONS: dict[Role, str] = {
    Role.DESIGNER: "edit and publish workflows",
    Role.OPERATOR: (
        "start, cancel and retry runs; reassign tasks; edit schedules; read sensitive input; "
        "reset breakers"
    ),
    Role.APPROVER: "act on the tasks assigned to them",
    Role.VIEWER: "read only",
}


def ensure_role_groups() -> None:
    for role in Role:
        Group.objects.get_or_create(name=role.value)


def roles_of(user: User | AnonymousUser) -> frozenset[Role]:
    """The user's roles, read once per user object, as Django caches permissions: each
    request loads its user afresh, and every page asks (the role check, then the view)."""
    if not user.is_authenticated:
        return frozenset()
    cached: frozenset[Role] | None = getattr(user, "_stepwise_roles", None)
    if cached is None:
        names = user.groups.values_list("name", flat=True)
        cached = frozenset(Role(name) for name in names if name in Role._value2member_map_)
        user._stepwise_roles = cached  # type: ignore[attr-defined]
    return cached


def capabilities_of(user: User | AnonymousUser) -> frozenset[Capability]:
    if not user.is_authenticated or not user.is_active:
        return frozenset()
    if getattr(user, "is_superuser", False):
        return frozenset(Capability)
    granted: set[Capability] = set()
    for role in roles_of(user):
        granted |= ROLE_CAPABILITIES[role]
    return frozenset(granted)


def can(user: User | AnonymousUser, capability: Capability) -> bool:
    return capability in capabilities_of(user)


def require(user: User | AnonymousUser, capability: Capability) -> None:
    """Raise PermissionDenied (a 403) unless the user's roles grant the capability."""
    if not can(user, capability):
        raise PermissionDenied(f"your roles do not allow: {capability.value.replace('_', ' ')}")
