"""Secret grants: administrators decide which workflow may send which secret; every grant
and revocation goes through engine.outbound.grants, which keeps the audit trail."""

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from engine.admin.readonly import ReadOnlyAdmin
from engine.models import SecretGrant, SecretGrantEvent
from engine.outbound.grants import grant_secret, revoke_secret


@admin.register(SecretGrant)
class SecretGrantAdmin(admin.ModelAdmin[SecretGrant]):
    list_display = ["workflow", "name", "note", "granted_by", "granted_at"]
    list_filter = ["name"]
    search_fields = ["workflow", "name", "note"]
    fields = ["workflow", "name", "note"]

    def get_readonly_fields(self, request: HttpRequest, obj: SecretGrant | None = None) -> Any:
        # A grant is given or taken back, never turned into another one.
        return ["workflow", "name", "note"] if obj is not None else []

    def save_model(self, request: HttpRequest, obj: SecretGrant, form: Any, change: bool) -> None:
        if change:
            return
        saved = grant_secret(obj.workflow, obj.name, _user(request), obj.note)
        obj.pk = saved.pk

    def delete_model(self, request: HttpRequest, obj: SecretGrant) -> None:
        revoke_secret(obj.workflow, obj.name, _user(request), "revoked in the admin")

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[SecretGrant]) -> None:
        for grant in queryset:
            self.delete_model(request, grant)


def _user(request: HttpRequest) -> Any:
    return request.user if request.user.is_authenticated else None


@admin.register(SecretGrantEvent)
class SecretGrantEventAdmin(ReadOnlyAdmin[SecretGrantEvent]):
    """The audit trail is never edited."""

    list_display = ["at", "action", "name", "workflow", "actor", "note"]
    list_filter = ["action", "name"]
    search_fields = ["workflow", "name", "note"]
