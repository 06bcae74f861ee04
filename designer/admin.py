from django.contrib import admin

from designer.models import Machine, Workflow
from engine.admin.json_input import JSON_INPUT_FIELDS


@admin.register(Workflow)
class WorkflowAdmin(admin.ModelAdmin[Workflow]):
    formfield_overrides = JSON_INPUT_FIELDS
    list_display = ["slug", "title", "revision", "is_template", "updated_by", "updated_at"]
    list_filter = ["is_template"]
    search_fields = ["slug", "title"]
    readonly_fields = ["revision", "created_by", "created_at", "updated_by", "updated_at"]


@admin.register(Machine)
class MachineAdmin(admin.ModelAdmin[Machine]):
    formfield_overrides = JSON_INPUT_FIELDS
    list_display = ["slug", "title", "revision", "updated_by", "updated_at"]
    search_fields = ["slug", "title"]
    readonly_fields = ["revision", "created_by", "created_at", "updated_by", "updated_at"]
