from django.contrib import admin

from engine.admin.readonly import ReadOnlyAdmin
from monitoring.models import SavedRunView


@admin.register(SavedRunView)
class SavedRunViewAdmin(ReadOnlyAdmin[SavedRunView]):
    """People's saved runs-explorer views."""

    list_display = ["user", "name", "created_at"]
    search_fields = ["user__username", "name"]
