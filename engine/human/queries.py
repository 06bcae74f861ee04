"""Which tasks a person works on, and finding them among many: views, filters, sort, pages.

A person's tasks are their own, their groups' (unless another member claimed one), and those
of people who delegated to them today. Pages are keyset-paginated (a cursor, never an offset),
so the hundredth page costs what the first does.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import User
from django.db.models import DateTimeField, F, FloatField, Q, QuerySet, TextField, Value
from django.db.models.fields.json import KeyTextTransform, KeyTransform
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone

from engine.core.cursors import CursorError, decode_cursor, encode_cursor
from engine.human.delegation import active_rules_to
from engine.human.tasks import TaskError
from engine.models import NEVER, Delegation, HumanTask, TaskDecision, TaskStatus

VIEWS = ("open", "mine", "queue", "delegated", "decided")
SORTS = ("due", "-due", "created", "-created", "workflow")
DUE_FILTERS = ("overdue", "today", "week", "none")
MAX_LIMIT = 200
MAX_SEARCH = 200
MAX_DATA_FILTERS = 5
_DATA_FILTER = re.compile(r"^([A-Za-z_][A-Za-z0-9_-]{0,63})(>=|<=|=|>|<)(.{1,200})$")


def _ids_assigned_to(users: Sequence[int]) -> QuerySet[Any]:
    through = HumanTask.assignees.through
    return through.objects.filter(user_id__in=users).values("humantask_id")


def _ids_assigned_to_groups(users: Sequence[int]) -> QuerySet[Any]:
    through = HumanTask.assigned_groups.through
    members = User.groups.through.objects.filter(user_id__in=users).values("group_id")
    return through.objects.filter(group_id__in=members).values("humantask_id")


def _theirs(people: Sequence[int]) -> Q:
    # Subqueries, not joins: no DISTINCT, so the database can walk an index in sort order.
    return Q(pk__in=_ids_assigned_to(people)) | Q(pk__in=_ids_assigned_to_groups(people))


def tasks_for(user: User, rules: Sequence[Delegation] | None = None) -> QuerySet[HumanTask]:
    """The user's inbox, newest first (every status: filter for the open ones). `rules` are
    the delegations to the user in force today, when the caller has them already."""
    wanted = _theirs([user.pk])
    holders = [user.pk]
    for rule in active_rules_to(user) if rules is None else rules:
        theirs = _theirs([rule.user_id])
        if rule.workflows:
            theirs &= Q(run__workflow__in=rule.workflows)
        wanted |= theirs
        holders.append(rule.user_id)
    return (
        HumanTask.objects.filter(wanted)
        .exclude(Q(claimed_by__isnull=False) & ~Q(claimed_by__in=holders))
        .order_by("-created_at", "-pk")
    )


@dataclass(frozen=True)
class TaskQuery:
    """What someone is looking for in their tasks; every field is checked by `parse_query`."""

    view: str = "open"
    workflow: str = ""
    due: str = ""
    assignee: str = ""
    search: str = ""
    data: tuple[tuple[str, str, str], ...] = ()
    sort: str = "due"
    cursor: str = ""
    limit: int = 50

    def as_params(self) -> dict[str, str]:
        """The query as URL parameters (no cursor), for links and saved views."""
        params = {
            "view": self.view,
            "workflow": self.workflow,
            "due": self.due,
            "assignee": self.assignee,
            "q": self.search,
            "sort": self.sort,
        }
        params["data"] = ",".join(f"{name}{op}{value}" for name, op, value in self.data)
        return {key: value for key, value in params.items() if value}


@dataclass(frozen=True)
class Page:
    tasks: Sequence[HumanTask]
    next_cursor: str = ""
    query: TaskQuery = field(default_factory=TaskQuery)


def parse_query(params: Any) -> TaskQuery:
    """A TaskQuery from URL or API parameters; a bad one is a TaskError naming the field."""

    def text(name: str, limit: int = 200) -> str:
        value = params.get(name) or ""
        if not isinstance(value, str) or len(value) > limit:
            raise TaskError(f"at most {limit} characters", status=422, field=name)
        return value.strip()

    view, sort, due = text("view") or "open", text("sort") or "due", text("due")
    if view not in VIEWS:
        raise TaskError(f"one of {', '.join(VIEWS)}", status=422, field="view")
    if sort not in SORTS:
        raise TaskError(f"one of {', '.join(SORTS)}", status=422, field="sort")
    if due and due not in DUE_FILTERS:
        raise TaskError(f"one of {', '.join(DUE_FILTERS)}", status=422, field="due")
    raw_limit = params.get("limit") or 50
    try:
        limit = int(raw_limit)
    except (TypeError, ValueError):
        raise TaskError("a whole number", status=422, field="limit") from None
    if not 1 <= limit <= MAX_LIMIT:
        raise TaskError(f"between 1 and {MAX_LIMIT}", status=422, field="limit")
    filters = []
    for part in [item for item in text("data", 1000).split(",") if item.strip()]:
        match = _DATA_FILTER.match(part.strip())
        if match is None:
            raise TaskError(
                f"{part!r}: a field, =, <, >, <= or >=, and a value (amount>=1000)",
                status=422,
                field="data",
            )
        filters.append((match.group(1), match.group(2), match.group(3).strip()))
    if len(filters) > MAX_DATA_FILTERS:
        raise TaskError(f"at most {MAX_DATA_FILTERS} data filters", status=422, field="data")
    cursor = text("cursor", 500)
    if cursor:
        _cursor_key(cursor, sort)  # refused here, where the pages catch it, not mid-render
    return TaskQuery(
        view=view,
        workflow=text("workflow", 100),
        due=due,
        assignee=text("assignee", 150),
        search=text("q", MAX_SEARCH),
        data=tuple(filters),
        sort=sort,
        cursor=cursor,
        limit=limit,
    )


def find_tasks(
    user: User,
    query: TaskQuery,
    now: datetime | None = None,
    rules: Sequence[Delegation] | None = None,
) -> Page:
    """One page of the user's tasks matching the query, and the cursor of the next (`rules`:
    the delegations to the user today, when the caller has them already)."""
    now = now or timezone.now()
    rules = active_rules_to(user) if rules is None else rules
    if query.view == "decided":
        tasks = HumanTask.objects.filter(
            pk__in=TaskDecision.objects.filter(Q(user=user) | Q(decided_by=user)).values("task")
        )
    else:
        tasks = _open_view(user, query.view, rules)
    tasks = _filtered(tasks.select_related("run", "claimed_by", "machine_instance"), query, now)
    tasks = tasks.annotate(due_key=Coalesce("due_at", Value(NEVER), output_field=DateTimeField()))
    order, keys = _ordering(query.sort)
    tasks = tasks.order_by(*order)
    if query.cursor:
        tasks = tasks.filter(_after(query.cursor, query.sort))
    found = list(tasks[: query.limit + 1])
    more = len(found) > query.limit
    found = found[: query.limit]
    cursor = _cursor_of(found[-1], query.sort, keys) if more and found else ""
    return Page(found, cursor, query)


def _open_view(user: User, view: str, rules: Sequence[Delegation]) -> QuerySet[HumanTask]:
    mine = Q(pk__in=_ids_assigned_to([user.pk])) | Q(claimed_by=user)
    groups = Q(pk__in=_ids_assigned_to_groups([user.pk]))
    delegated = Q(pk__in=[])
    for rule in rules:
        theirs = _theirs([rule.user_id])
        if rule.workflows:
            theirs &= Q(run__workflow__in=rule.workflows)
        delegated |= theirs
    holders = [user.pk, *(rule.user_id for rule in rules)]
    wanted = {"mine": mine, "queue": groups & ~mine, "delegated": delegated}.get(
        view, mine | groups | delegated
    )
    open_tasks = HumanTask.objects.filter(wanted, status=TaskStatus.OPEN)
    unclaimed_or_ours = Q(claimed_by__isnull=True) | Q(claimed_by__in=holders)
    if view == "queue":
        unclaimed_or_ours = Q(claimed_by__isnull=True)
    return open_tasks.filter(unclaimed_or_ours)


def _filtered(tasks: QuerySet[HumanTask], query: TaskQuery, now: datetime) -> QuerySet[HumanTask]:
    if query.workflow:
        tasks = tasks.filter(run__workflow=query.workflow)
    if query.due == "overdue":
        tasks = tasks.filter(due_at__lt=now)
    elif query.due == "today":
        tasks = tasks.filter(due_at__gte=now, due_at__lt=now + timedelta(days=1))
    elif query.due == "week":
        tasks = tasks.filter(due_at__gte=now, due_at__lt=now + timedelta(days=7))
    elif query.due == "none":
        tasks = tasks.filter(due_at__isnull=True)
    if query.assignee:
        person = User.objects.filter(username=query.assignee).values_list("pk", flat=True)
        tasks = tasks.filter(_theirs(list(person)))
    if query.search:
        # The data as JSON text: a search for "Lyon" finds {"city": "Lyon"}.
        tasks = tasks.annotate(data_text=Cast("data", output_field=TextField())).filter(
            Q(title__icontains=query.search)
            | Q(description__icontains=query.search)
            | Q(data_text__icontains=query.search)
        )
    for name, op, value in query.data:
        tasks = _data_filter(tasks, name, op, value)
    return tasks


def _data_filter(tasks: QuerySet[HumanTask], name: str, op: str, value: str) -> QuerySet[HumanTask]:
    """A filter on one top-level field of the task's data: numbers compare as numbers."""
    try:
        number = float(value)
    except ValueError:
        number = None
    if number is not None:
        key = f"data_{name}_number"
        tasks = tasks.annotate(**{key: Cast(KeyTransform(name, "data"), FloatField())})
        lookup = {"=": "exact", ">": "gt", "<": "lt", ">=": "gte", "<=": "lte"}[op]
        return tasks.filter(**{f"{key}__{lookup}": number})
    if op != "=":
        raise TaskError(f"{name}{op}{value}: text compares only with =", status=422, field="data")
    key = f"data_{name}_text"
    return tasks.annotate(**{key: KeyTextTransform(name, "data")}).filter(**{key: value})


def _ordering(sort: str) -> tuple[list[Any], list[str]]:
    if sort == "due":
        return [F("due_key").asc(), F("pk").asc()], ["due_key", "pk"]
    if sort == "-due":
        return [F("due_key").desc(), F("pk").desc()], ["due_key", "pk"]
    if sort == "created":
        return [F("created_at").asc(), F("pk").asc()], ["created_at", "pk"]
    if sort == "-created":
        return [F("created_at").desc(), F("pk").desc()], ["created_at", "pk"]
    return [F("run__workflow").asc(), F("pk").asc()], ["run__workflow", "pk"]


def _cursor_of(task: HumanTask, sort: str, keys: list[str]) -> str:
    values = [task.run.workflow if key == "run__workflow" else getattr(task, key) for key in keys]
    return encode_cursor(f"tasks:{sort}", values)


def _cursor_key(cursor: str, sort: str) -> tuple[datetime | str, int]:
    """The last row's sort key and id; a cursor this list (in this order) did not give is a 422."""
    kind = str if sort == "workflow" else datetime
    try:
        first, pk = decode_cursor(f"tasks:{sort}", cursor, [kind, int])
    except CursorError as refused:
        raise TaskError(str(refused), status=422, field="cursor") from None
    return first, pk


def _after(cursor: str, sort: str) -> Q:
    """Rows after the cursor in the sort's order."""
    first, pk = _cursor_key(cursor, sort)
    column = {"due": "due_key", "-due": "due_key", "created": "created_at"}.get(
        sort.lstrip("-"), "run__workflow"
    )
    if sort.startswith("-"):
        return Q(**{f"{column}__lt": first}) | Q(**{column: first, "pk__lt": pk})
    return Q(**{f"{column}__gt": first}) | Q(**{column: first, "pk__gt": pk})
