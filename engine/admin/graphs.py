"""Published graph versions (read-only) and the records graph nodes keep."""

from django.contrib import admin

from engine.admin.json_input import JSON_INPUT_FIELDS
from engine.admin.readonly import ReadOnlyAdmin
from engine.models import (
    DraftSnapshot,
    GraphVersion,
    Record,
)


@admin.register(GraphVersion)
class GraphVersionAdmin(ReadOnlyAdmin[GraphVersion]):
    """Published versions are immutable: the admin shows them, never edits them."""

    list_display = [
        "workflow",
        "number",
        "title",
        "author",
        "published_at",
        "retired",
        "triggers_active",
    ]
    list_filter = ["retired", "triggers_active", "published_at"]
    search_fields = ["workflow", "title", "note"]


@admin.register(DraftSnapshot)
class DraftSnapshotAdmin(ReadOnlyAdmin[DraftSnapshot]):
    """Drafts as designers test-ran them: what their test runs replay."""

    list_display = ["workflow", "revision", "title", "created_at"]
    search_fields = ["workflow", "title"]


@admin.register(Record)
class RecordAdmin(admin.ModelAdmin[Record]):
    formfield_overrides = JSON_INPUT_FIELDS
    list_display = ["collection", "key", "created_at", "updated_at"]
    list_filter = ["collection"]
    search_fields = ["collection", "key"]
