"""Human tasks in the admin, read-only, with their decisions, audit trail, delegations, saved
views and used decision links."""

from django.contrib import admin

from engine.admin.readonly import ReadOnlyAdmin, ReadOnlyInline
from engine.models import (
    Delegation,
    HumanTask,
    SavedView,
    TaskDecision,
    TaskEvent,
    UsedDecisionLink,
)


class DecisionInline(ReadOnlyInline):
    model = TaskDecision
    fields = ["user", "decided_by", "decision", "comment", "decided_at"]


class TaskHistoryInline(ReadOnlyInline):
    model = TaskEvent
    fields = ["at", "kind", "actor", "on_behalf_of", "note", "detail"]


@admin.register(HumanTask)
class HumanTaskAdmin(ReadOnlyAdmin[HumanTask]):
    """Tasks and their audit trail, read-only: decisions, claims and reassignments go through
    the inbox and the tasks API, where the four-eyes rule and the history are kept."""

    list_display = [
        "id",
        "kind",
        "title",
        "status",
        "run",
        "claimed_by",
        "created_at",
        "due_at",
        "decided_at",
    ]
    list_filter = ["kind", "status", "created_at"]
    search_fields = ["title", "run__workflow"]
    raw_id_fields = ["run"]
    inlines = [DecisionInline, TaskHistoryInline]


@admin.register(TaskEvent)
class TaskEventAdmin(ReadOnlyAdmin[TaskEvent]):
    """Every task's audit trail across tasks: who did what, for whom, when and why."""

    list_display = ["task", "kind", "actor", "on_behalf_of", "at"]
    list_filter = ["kind", "at"]
    search_fields = ["task__title", "actor__username", "note"]
    list_select_related = ["task", "actor", "on_behalf_of"]


@admin.register(SavedView)
class SavedViewAdmin(ReadOnlyAdmin[SavedView]):
    """People's saved inbox views."""

    list_display = ["user", "name", "created_at"]
    search_fields = ["user__username", "name"]


@admin.register(UsedDecisionLink)
class UsedDecisionLinkAdmin(ReadOnlyAdmin[UsedDecisionLink]):
    """One-click decision links that were used (each works once)."""

    list_display = ["task", "user", "decision", "used_at"]
    list_filter = ["decision", "used_at"]


@admin.register(Delegation)
class DelegationAdmin(ReadOnlyAdmin[Delegation]):
    """Out-of-office rules, set by each person on their own delegation page."""

    list_display = ["user", "delegate", "starts_on", "ends_on", "workflows", "created_at"]
    list_filter = ["starts_on", "ends_on"]
    search_fields = ["user__username", "delegate__username"]


@admin.register(TaskDecision)
class TaskDecisionAdmin(ReadOnlyAdmin[TaskDecision]):
    """The audit trail of human tasks: who decided what, when, with which comment."""

    list_display = ["task", "user", "decided_by", "decision", "decided_at"]
    list_filter = ["decision", "decided_at"]
    search_fields = ["task__title", "user__username", "comment"]
    list_select_related = ["task", "user"]
