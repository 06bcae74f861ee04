"""API endpoints about the caller."""

from django.http import HttpRequest
from ninja import Router, Schema

from accounts.roles import capabilities_of, roles_of

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
