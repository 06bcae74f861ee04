"""API endpoints about the caller."""

from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema
from ninja.errors import HttpError

from accounts.api_refusals import FieldError
from accounts.people import MAX_QUERY_LENGTH, search_people
from accounts.roles import Capability, capabilities_of, roles_of

router = Router(tags=["accounts"])


class MeOut(Schema):
    username: str
    is_superuser: bool
    roles: list[str]
    capabilities: list[str]


@router.get("/me", response=MeOut, summary="Who the caller is and what their roles allow")
def me(request: HttpRequest) -> MeOut:
    user = request.user
    return MeOut(
        username=user.get_username(),
        is_superuser=bool(getattr(user, "is_superuser", False)),
        roles=sorted(roles_of(user)),
        capabilities=sorted(capabilities_of(user)),
    )


class PersonOut(Schema):
    kind: str = Field(description="'user' or 'group'")
    name: str = Field(description="What an assignment stores: a username or a group name")
    label: str


# Whoever may write assignments: designers in graphs, operators when reassigning tasks.
_PICKERS = frozenset({Capability.EDIT_WORKFLOWS, Capability.REASSIGN_TASKS})


@router.get(
    "/people",
    response=list[PersonOut],
    summary="Users and groups whose name contains q (at most 20), for assigning work",
)
def people(request: HttpRequest, q: str = "") -> list[dict[str, Any]]:
    if not _PICKERS & capabilities_of(request.user):
        raise HttpError(403, "your roles do not allow: edit workflows")
    if len(q) > MAX_QUERY_LENGTH:
        raise FieldError(422, "q", f"must be at most {MAX_QUERY_LENGTH} characters")
    return search_people(q)
