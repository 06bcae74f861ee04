"""Publishing: the engine action that turns a graph into a numbered version it can run.

This is the only code that writes a graph's `GraphVersion` rows, its schedules and its event
triggers; the designer (or any other author) calls it. A caller validates for its own users
first, but the engine refuses a graph with problems too, whoever sends it.
"""

from functools import cache
from typing import Any

from django.contrib.auth.models import Group, User
from django.db import connection, transaction
from django.db.models import Max, OuterRef, QuerySet, Subquery
from django.utils import timezone

from engine.core.definitions import get_action, get_workflow
from engine.core.durations import check_run_timeout
from engine.graph.nodes import CheckContext, Problem
from engine.graph.validate import validate_graph
from engine.inbound.schedule_sync import (
    SCHEDULE_NODE,
    delete_graph_schedules,
    sync_graph_schedules,
)
from engine.inbound.triggers import graph_triggers, sync_event_triggers
from engine.models import DraftSnapshot, GraphVersion
from engine.outbound.grants import granted_secrets

__all__ = [
    "GraphRefused",
    "activate_version_triggers",
    "latest_version",
    "latest_versions",
    "live_versions",
    "publish_graph",
    "published_context",
    "published_number",
    "retire_graph",
]

# The first key of the advisory lock that serialises publishing and retiring per slug; the second
# is the slug's hash. A constant of its own keeps these locks apart from any other advisory lock.
_PUBLISH_LOCK = 0x5057


class GraphRefused(ValueError):
    """A graph with problems: nothing was published."""

    def __init__(self, slug: str, problems: list[Problem]) -> None:
        super().__init__(f"{slug}: the graph has {len(problems)} problem(s)")
        self.problems = problems


def published_context(slug: str | None = None) -> CheckContext:
    """What the engine can vouch for outside a graph, each answer remembered per context;
    with the workflow's slug, which secrets it was granted too."""

    @cache
    def workflow_exists(slug: str) -> bool:
        return get_workflow(slug) is not None or live_versions(slug).exists()

    @cache
    def user_exists(username: str) -> bool:
        return User.objects.filter(username=username, is_active=True).exists()

    @cache
    def group_exists(name: str) -> bool:
        return Group.objects.filter(name=name).exists()

    @cache
    def granted() -> set[str]:
        return granted_secrets(slug) if slug else set()

    return CheckContext(
        workflow_exists=workflow_exists,
        action_exists=lambda name: get_action(name) is not None,
        user_exists=user_exists,
        group_exists=group_exists,
        secret_granted=lambda name: slug is None or name.upper() in granted(),
    )


def publish_graph(
    slug: str,
    title: str,
    graph: dict[str, Any],
    *,
    note: str = "",
    author: User | None = None,
    compensate_on_cancel: bool = True,
    timeout_seconds: float | None = None,
    context: CheckContext | None = None,
    activate_triggers: bool = True,
) -> GraphVersion:
    """Freeze `graph` as the slug's next version and start its schedules and event triggers.

    `context` says which workflows, actions, users and groups exist (the engine's own view when
    None); a caller that validated with a context passes the same one, so both checks agree.
    Schedules and event triggers start runs: a publisher who may not start runs passes
    `activate_triggers=False`, and the version's own wait for an operator
    (`activate_version_triggers`) while the previous version's stay in force.
    `timeout_seconds` is the run timeout of every run of the version (None: none); one out of
    range raises ValueError (engine.core.durations.check_run_timeout).
    """
    timeout_seconds = check_run_timeout(timeout_seconds)
    problems = validate_graph(graph, context or published_context(slug))
    if problems:
        raise GraphRefused(slug, problems)
    with transaction.atomic():
        _lock(slug)
        # Numbers continue after a retired workflow's versions: v1 always means one graph.
        last = GraphVersion.objects.filter(workflow=slug).aggregate(n=Max("number"))["n"]
        version = GraphVersion.objects.create(
            workflow=slug,
            number=(last or 0) + 1,
            title=title,
            graph=graph,
            compensate_on_cancel=compensate_on_cancel,
            timeout_seconds=timeout_seconds,
            note=note,
            author=author,
            published_at=timezone.now(),
            triggers_active=activate_triggers or not starts_runs_by_itself(slug, graph),
        )
        if version.triggers_active:
            sync_graph_schedules(version)
            sync_event_triggers(slug)
        return version


def starts_runs_by_itself(slug: str, graph: dict[str, Any]) -> bool:
    """Whether a graph has schedules or event triggers (webhooks included)."""
    nodes = graph.get("nodes", []) if isinstance(graph, dict) else []
    return any(node.get("type") == SCHEDULE_NODE for node in nodes) or bool(
        graph_triggers(slug, graph)
    )


def activate_version_triggers(slug: str, number: int, by: User | None) -> GraphVersion:
    """An operator lets a version's schedules and event triggers start runs. Raises
    GraphVersion.DoesNotExist for an unknown or retired version."""
    with transaction.atomic():
        _lock(slug)
        version = live_versions(slug).select_for_update().get(number=number)
        if not version.triggers_active:
            version.triggers_active = True
            version.triggers_activated_by = by
            version.triggers_activated_at = timezone.now()
            version.save(
                update_fields=["triggers_active", "triggers_activated_by", "triggers_activated_at"]
            )
        newest_active = live_versions(slug).filter(triggers_active=True).order_by("-number").first()
        if newest_active is not None and newest_active.pk == version.pk:
            sync_graph_schedules(version)
            sync_event_triggers(slug)
        return version


def retire_graph(slug: str) -> int:
    """Retire every version of `slug`: they stay for the runs pinned to them but start nothing.

    Its schedules, event triggers and the drafts kept for test runs go with them. Returns how
    many versions were live.
    """
    with transaction.atomic():
        _lock(slug)
        retired = live_versions(slug).update(retired=True)
        # Test runs of the draft end with it: a slug made again would reuse their revisions.
        DraftSnapshot.objects.filter(workflow=slug).delete()
        delete_graph_schedules(slug)
        sync_event_triggers(slug)
        return retired


def live_versions(slug: str) -> QuerySet[GraphVersion]:
    """The versions of `slug` that may start runs (a retired workflow has none)."""
    return GraphVersion.objects.filter(workflow=slug, retired=False)


def latest_version(slug: str) -> GraphVersion | None:
    return live_versions(slug).order_by("-number").first()


def latest_versions(slugs: list[str] | None = None) -> dict[str, GraphVersion]:
    """The newest live version of every graph workflow (or of these), by slug, in one query."""
    newest = GraphVersion.objects.filter(retired=False).order_by("workflow", "number")
    if slugs is not None:
        newest = newest.filter(workflow__in=slugs)
    return {version.workflow: version for version in newest}


def published_number(slug_field: str = "slug") -> Subquery:
    """The newest live version's number of the outer row's `slug_field`, to annotate a list."""
    newest = GraphVersion.objects.filter(workflow=OuterRef(slug_field), retired=False)
    return Subquery(newest.order_by("-number").values("number")[:1])


def _lock(slug: str) -> None:
    """Serialise publishing and retiring one slug until the transaction ends.

    Two publishes at once would otherwise both read the same last number; the unique constraint
    would refuse the second with an error instead of numbering it after the first. SQLite (the
    embedded default) has one writer at a time already and no advisory locks.
    """
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [_PUBLISH_LOCK, slug])
