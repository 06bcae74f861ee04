"""Finding runs among millions: filters, a text search, sorts and keyset pages.

One module serves the runs explorer page and `GET /api/runs`, so both read parameters the same
way and refuse the same bad values (a `RunQueryError` naming the field). Pages are keyset
pages: an opaque cursor holds the last row's sort key and id, so page 1,000 costs what page 1
does and runs that arrive meanwhile neither repeat nor skip a row. Never an OFFSET.
"""

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import connection
from django.db.models import (
    DurationField,
    ExpressionWrapper,
    F,
    Func,
    Q,
    QuerySet,
    TextField,
    Value,
)
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from engine.core.cursors import CursorError, decode_cursor, encode_cursor
from engine.core.definitions import all_workflows
from engine.core.journal import EntryStatus
from engine.models import GraphVersion, Run, RunStatus, StepRecord, Trigger

SORTS = ("-started", "started", "-duration", "duration")
WITHIN = {
    "15m": timedelta(minutes=15),
    "1h": timedelta(hours=1),
    "24h": timedelta(days=1),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
}
MAX_LIMIT = 500
MAX_TEXT = 200
MAX_MATCHES = 5
MAX_MATCH_DEPTH = 5
MAX_DURATION_SECONDS = 10 * 365 * 86400
_MATCH = re.compile(r"^\s*(input|output)((?:\.[A-Za-z0-9_-]{1,64}){1,5})\s*=\s*(.{1,400}?)\s*$")

# The list shows none of a run's large JSON documents but its error.
LIST_FIELDS = (
    "id",
    "workflow",
    "kind",
    "version",
    "status",
    "trigger",
    "created_by__username",
    "created_at",
    "started_at",
    "finished_at",
    "progress",
    "error",
    "is_test",
)


class RunQueryError(ValueError):
    """A filter value the explorer cannot use; `field` names the parameter."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Match:
    """`input.customer = acme`: the run's input (or output) contains this value at this path."""

    side: str  # "input" or "output"
    path: tuple[str, ...]
    value: Any

    def __str__(self) -> str:
        shown = self.value if isinstance(self.value, str) else json.dumps(self.value)
        return f"{self.side}.{'.'.join(self.path)} = {shown}"


@dataclass(frozen=True)
class RunQuery:
    """What someone looks for among runs; every field is checked by `parse_run_query`."""

    workflow: str = ""
    version: str = ""
    statuses: tuple[str, ...] = ()
    trigger: str = ""
    started_by: str = ""
    within: str = ""
    started_after: datetime | None = None
    started_before: datetime | None = None
    min_duration: float | None = None
    failed_step: str = ""
    matches: tuple[Match, ...] = ()
    search: str = ""
    sort: str = "-started"
    cursor: str = ""
    limit: int = 50
    search_skips: tuple[str, ...] = ()
    """Workflows whose error text the search leaves unread: its reader may not read their
    sensitive input, and a match there would confirm a value (set by engine.runtime.masking)."""

    def as_params(self) -> dict[str, str | list[str]]:
        """The query as URL parameters (no cursor, no limit): for links and saved views."""
        params: dict[str, str | list[str]] = {
            "workflow": self.workflow,
            "version": self.version,
            "status": list(self.statuses),
            "trigger": self.trigger,
            "started_by": self.started_by,
            "within": self.within,
            "started_after": _iso(self.started_after),
            "started_before": _iso(self.started_before),
            "min_duration": "" if self.min_duration is None else f"{self.min_duration:g}",
            "failed_step": self.failed_step,
            "match": [str(match) for match in self.matches],
            "q": self.search,
            "sort": "" if self.sort == "-started" else self.sort,
        }
        return {key: value for key, value in params.items() if value}

    @property
    def filtered(self) -> bool:
        return bool(set(self.as_params()) - {"sort"})


@dataclass(frozen=True)
class RunPage:
    runs: Sequence[Run]
    next_cursor: str = ""
    query: RunQuery = field(default_factory=RunQuery)


def _iso(moment: datetime | None) -> str:
    return moment.isoformat() if moment is not None else ""


def _values(params: Any, name: str) -> list[str]:
    """Every value given for a parameter: repeated in a URL, or a list in a JSON filter."""
    if hasattr(params, "getlist"):
        raw: list[Any] = params.getlist(name)
    else:
        value = params.get(name)
        raw = value if isinstance(value, list) else [] if value is None else [value]
    values = []
    for item in raw:
        if isinstance(item, bool) or not isinstance(item, (str, int, float)):
            raise RunQueryError(name, "give text, a number or a list of them")
        values.append(str(item).strip())
    return [value for value in values if value]


def _text(params: Any, name: str, limit: int = MAX_TEXT) -> str:
    values = _values(params, name)
    if len(values) > 1:
        raise RunQueryError(name, "give one value")
    value = values[0] if values else ""
    if len(value) > limit:
        raise RunQueryError(name, f"at most {limit} characters")
    return value


def _moment(params: Any, name: str) -> datetime | None:
    text = _text(params, name, 40)
    if not text:
        return None
    try:
        moment = parse_datetime(text)
        day = parse_date(text) if moment is None else None
    except ValueError:
        moment = day = None
    if day is not None:
        moment = datetime(day.year, day.month, day.day, tzinfo=timezone.get_current_timezone())
    if moment is None:
        raise RunQueryError(name, "a date or a date and time, e.g. 2026-12-06T09:30")
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


def _match(text: str) -> Match:
    found = _MATCH.match(text)
    if found is None:
        raise RunQueryError(
            "match",
            f"{text[:60]!r}: input.key = value or output.key = value, e.g. input.customer = acme",
        )
    side, path, raw = found.group(1), tuple(found.group(2).lstrip(".").split(".")), found.group(3)
    try:
        value: Any = json.loads(raw)
    except ValueError:
        value = raw  # not JSON: compared as text
    return Match(side, path, value)


def parse_run_query(params: Any) -> RunQuery:
    """A RunQuery from URL parameters or a JSON filter; a bad value raises RunQueryError."""
    if not hasattr(params, "get"):
        raise RunQueryError("filter", 'an object of filters, e.g. {"status": ["failed"]}')
    statuses = tuple(
        dict.fromkeys(
            status for value in _values(params, "status") for status in value.split(",") if status
        )
    )
    for status in statuses:
        if status not in RunStatus.values:
            raise RunQueryError("status", f"{status!r} is none of {', '.join(RunStatus.values)}")
    trigger = _text(params, "trigger")
    if trigger and trigger not in Trigger.values:
        raise RunQueryError("trigger", f"one of {', '.join(Trigger.values)}")
    within = _text(params, "within")
    if within and within not in WITHIN:
        raise RunQueryError("within", f"one of {', '.join(WITHIN)}")
    sort = _text(params, "sort") or "-started"
    if sort not in SORTS:
        raise RunQueryError("sort", f"one of {', '.join(SORTS)}")
    min_duration = None
    if raw_duration := _text(params, "min_duration", 20):
        try:
            min_duration = float(raw_duration)
        except ValueError:
            raise RunQueryError("min_duration", "a number of seconds") from None
        if not 0 <= min_duration <= MAX_DURATION_SECONDS:
            raise RunQueryError("min_duration", f"between 0 and {MAX_DURATION_SECONDS} seconds")
    raw_limit = _text(params, "limit", 5) or "50"
    try:
        limit = int(raw_limit)
    except ValueError:
        raise RunQueryError("limit", "a whole number") from None
    if not 1 <= limit <= MAX_LIMIT:
        raise RunQueryError("limit", f"between 1 and {MAX_LIMIT}")
    raw_matches = _values(params, "match")
    if len(raw_matches) > MAX_MATCHES:
        raise RunQueryError("match", f"at most {MAX_MATCHES} matches")
    started_after, started_before = (
        _moment(params, "started_after"),
        _moment(params, "started_before"),
    )
    if started_after and started_before and started_after > started_before:
        raise RunQueryError("started_before", "must not be before started_after")
    query = RunQuery(
        workflow=_text(params, "workflow", 100),
        version=_text(params, "version", 64),
        statuses=statuses,
        trigger=trigger,
        started_by=_text(params, "started_by", 150),
        within=within,
        started_after=started_after,
        started_before=started_before,
        min_duration=min_duration,
        failed_step=_text(params, "failed_step"),
        matches=tuple(_match(text) for text in raw_matches),
        search=_text(params, "q"),
        sort=sort,
        cursor=_text(params, "cursor", 200),
        limit=limit,
    )
    if query.cursor:
        _cursor_key(query.cursor, query.sort)  # refuse a bad cursor before any query runs
    return query


# --- workflow titles -------------------------------------------------------------------------
def workflow_titles() -> dict[str, str]:
    """Slug → title for every workflow the engine knows: code workflows from the registry,
    graph workflows from their newest published version."""
    titles = {definition.slug: definition.title for definition in all_workflows()}
    newest: dict[str, int] = {}
    for slug, number, title in GraphVersion.objects.values_list("workflow", "number", "title"):
        if number > newest.get(slug, 0):
            newest[slug] = number
            titles[slug] = title or slug
    return dict(sorted(titles.items(), key=lambda item: (item[1].lower(), item[0])))


def _slugs_matching(text: str, titles: dict[str, str]) -> list[str]:
    wanted = text.lower()
    return [
        slug for slug, title in titles.items() if wanted in slug.lower() or wanted in title.lower()
    ]


# --- the query -------------------------------------------------------------------------------
_DURATION = ExpressionWrapper(F("finished_at") - F("started_at"), output_field=DurationField())


class _SearchText(Func):
    # Written out so that the SQL is exactly the expression the trigram index covers.
    template = "UPPER(%(expressions)s)"
    arg_joiner = " || ' ' || "
    output_field = TextField()


SEARCH_TEXT = _SearchText(
    F("workflow"), Coalesce(Cast("error", TextField()), Value(""), output_field=TextField())
)
"""What the text search reads, upper-cased: the slug and the error's JSON. A trigram index on
PostgreSQL covers this very expression (engine migration 0015)."""


def matching_runs(
    query: RunQuery, now: datetime | None = None, titles: dict[str, str] | None = None
) -> QuerySet[Run]:
    """Every run the query's filters keep, unsorted and unpaged."""
    now = now or timezone.now()
    runs = Run.objects.all()
    if query.workflow:
        runs = runs.filter(workflow=query.workflow)
    if query.version:
        runs = runs.filter(version=query.version)
    if query.statuses:
        runs = runs.filter(status__in=query.statuses)
    if query.trigger:
        runs = runs.filter(trigger=query.trigger)
    if query.started_by:
        runs = runs.filter(created_by__username=query.started_by)
    if query.within:
        runs = runs.filter(created_at__gte=now - WITHIN[query.within])
    if query.started_after:
        runs = runs.filter(created_at__gte=query.started_after)
    if query.started_before:
        runs = runs.filter(created_at__lt=query.started_before)
    if query.min_duration is not None:
        runs = runs.annotate(duration=_DURATION).filter(
            duration__gte=timedelta(seconds=query.min_duration)
        )
    if query.failed_step:
        failing = StepRecord.objects.filter(status=EntryStatus.FAILED, name=query.failed_step)
        runs = runs.filter(pk__in=failing.values("run_id"))
    for match in query.matches:
        runs = runs.filter(_contains(match))
    if query.search:
        known = titles if titles is not None else workflow_titles()
        runs = runs.alias(search_text=SEARCH_TEXT).filter(
            _search(query.search, known, query.search_skips)
        )
    return runs


def _contains(match: Match) -> Q:
    if connection.vendor == "postgresql":
        # JSON containment: a GIN index (jsonb_path_ops) answers it.
        nested: Any = match.value
        for key in reversed(match.path):
            nested = {key: nested}
        return Q(**{f"{match.side}__contains": nested})
    # SQLite has no containment: the same test on the key's value.
    return Q(**{f"{match.side}__{'__'.join(match.path)}": match.value})


def _search(text: str, titles: dict[str, str], skips: tuple[str, ...] = ()) -> Q:
    wanted = Q(pk__in=[]) if not (slugs := _slugs_matching(text, titles)) else Q(workflow__in=slugs)
    digits = text.lstrip("#")
    if digits.isdigit() and len(digits) < 19:
        wanted |= Q(pk=int(digits))
    # Slugs of workflows no longer registered, and error messages.
    in_text = Q(search_text__contains=text.upper())
    return wanted | (in_text & ~Q(workflow__in=skips) if skips else in_text)


def find_runs(
    query: RunQuery,
    now: datetime | None = None,
    titles: dict[str, str] | None = None,
    *,
    fields: Iterable[str] | None = LIST_FIELDS,
) -> RunPage:
    """One page of runs matching the query and the cursor of the next ("" on the last)."""
    runs = matching_runs(query, now, titles).select_related("created_by")
    if fields is not None:
        runs = runs.only(*fields)
    descending = query.sort.startswith("-")
    if query.sort.endswith("duration"):
        # Only ended runs have a duration: sorting by it lists those.
        runs = runs.annotate(duration=_DURATION).filter(duration__isnull=False)
        key = "duration"
    else:
        key = "created_at"
    runs = (
        runs.order_by(F(key).desc(), F("pk").desc())
        if descending
        else runs.order_by(F(key).asc(), F("pk").asc())
    )
    if query.cursor:
        value, pk = _cursor_key(query.cursor, query.sort)
        # "key ≤ value AND (key < value OR id < pk)": the first half is an index range.
        if descending:
            runs = runs.filter(
                Q(**{f"{key}__lte": value}), Q(**{f"{key}__lt": value}) | Q(pk__lt=pk)
            )
        else:
            runs = runs.filter(
                Q(**{f"{key}__gte": value}), Q(**{f"{key}__gt": value}) | Q(pk__gt=pk)
            )
    found = list(runs[: query.limit + 1])
    more = len(found) > query.limit
    found = found[: query.limit]
    last = found[-1] if more and found else None
    cursor = encode_cursor(_cursor_scope(query.sort), [getattr(last, key), last.pk]) if last else ""
    return RunPage(found, cursor, query)


def _cursor_scope(sort: str) -> str:
    """Runs in one order: a cursor from another order (or list) is refused, not misread."""
    return f"runs:{sort}"


def _cursor_key(cursor: str, sort: str) -> tuple[datetime | timedelta, int]:
    kind = timedelta if sort.endswith("duration") else datetime
    try:
        value, pk = decode_cursor(_cursor_scope(sort), cursor, [kind, int])
    except CursorError as refused:
        raise RunQueryError("cursor", str(refused)) from None
    return value, pk


def failing_steps(run_ids: Sequence[int]) -> dict[int, str]:
    """The name of the step each run failed at (its newest failed journal entry), in one query."""
    names: dict[int, str] = {}
    failed = StepRecord.objects.filter(run_id__in=run_ids, status=EntryStatus.FAILED)
    for run_id, name in failed.order_by("run_id", "id").values_list("run_id", "name"):
        names[run_id] = name
    return names
