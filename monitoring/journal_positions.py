"""A run's journal summarised in PostgreSQL, position by position, so a fan-out of 10,000 items
is counted and spanned where it lies instead of read and laid out row by row.

Every figure here is the one monitoring.timeline computes in Python (a row's start with its
queueing, its end with its back-off, whether it is still open) and monitoring.timeline_groups
groups by (a loop's items, a big parallel group's branches): the SQL says it again, so the two
must change together (tests/monitoring/test_folded_timeline__matches_the_laid_out_one.py).
"""

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection

from engine.models import StepRecord
from monitoring.timeline import ENTRY_FIELDS, INTERNAL_KINDS, MIN_QUEUED_SECONDS, WAITING_KINDS

_TABLE = StepRecord._meta.db_table

# Django leaves JSON columns as text for their fields to decode; these rows skip the fields.
_JSON_AT = frozenset(ENTRY_FIELDS.index(name) for name in ("error", "detail"))


def _decoded(values: tuple[Any, ...]) -> Iterator[Any]:
    for index, value in enumerate(values):
        yield json.loads(value) if index in _JSON_AT and isinstance(value, str) else value


# A branch's detail holds its arguments: only a wait's and a parallel group's label it.
_COLUMNS = ", ".join(
    "CASE WHEN r.kind IN ('wait', 'parallel') THEN r.detail END AS detail"
    if name == "detail"
    else f"r.{'id' if name == 'pk' else name}"
    for name in ENTRY_FIELDS
)

# rec: each journal row with where its last span ends and whether it is still open;
# laned: with when the run's own lane was free before it (the previous positions' ends) and
# when its parallel group dispatched it; firsts: with when its attempt's first span began;
# item: with its position's figures (first attempt's name and start, last attempt's status
# and end); pos: the fold it belongs to (timeline_groups.group_key) and its canvas node or
# name; folded: the folds big enough; placed, grouped: whether a row is in a fold or is a
# parallel row whose branches are all folded loop items (a wave); member: what each fold holds.
# Windows over one sort, no self-join: the planner cannot misjudge a join of 10,000 rows.
_POSITIONS = f"""
WITH rec AS (
    SELECT r.id, r.seq, r.branch, r.superseded, r.attempt, r.kind, r.name, r.status,
        r.started_at,
        CASE
            WHEN r.status = 'queued' THEN COALESCE(r.finished_at, cut.h)
            -- A back-off the run did not live to see stops at its end.
            WHEN r.status = 'retrying' AND r.retry_at IS NOT NULL AND r.finished_at IS NOT NULL
                THEN GREATEST(CASE WHEN cut.ended
                    THEN LEAST(GREATEST(r.retry_at, r.finished_at), cut.h)
                    ELSE GREATEST(r.retry_at, r.finished_at) END, r.finished_at)
            WHEN r.kind = ANY(%(waiting)s) THEN COALESCE(r.finished_at, cut.h)
            ELSE GREATEST(COALESCE(r.finished_at, cut.h), r.started_at)
        END AS ends,
        NOT cut.ended AND CASE
            WHEN r.status = 'retrying' AND r.retry_at IS NOT NULL AND r.finished_at IS NOT NULL
                THEN GREATEST(r.retry_at, r.finished_at) > cut.h
            ELSE r.finished_at IS NULL
        END AS last_open,
        NOT cut.ended AND (r.finished_at IS NULL OR (
            r.status = 'retrying' AND r.retry_at IS NOT NULL AND r.finished_at IS NOT NULL
            AND GREATEST(r.retry_at, r.finished_at) > cut.h
        )) AS any_open,
        NOT cut.ended AND r.finished_at IS NULL AND r.status <> 'queued'
            AND r.kind = ANY(%(waiting)s) AS open_wait
    FROM "{_TABLE}" r,
        -- The end of the stretch the row began in (a stop before a retry, or the run's end),
        -- else now; as monitoring.timeline.build_timeline cuts it.
        LATERAL (SELECT COALESCE(stop.at, %(run_end)s::timestamptz, %(horizon)s) AS h,
                COALESCE(stop.at, %(run_end)s::timestamptz) IS NOT NULL AS ended
            FROM (SELECT min(e) AS at FROM unnest(%(stop_ends)s::timestamptz[]) e
                WHERE e >= r.started_at) stop) cut
    WHERE r.run_id = %(run)s
),
laned AS (
    SELECT rec.*,
        GREATEST(%(run_start)s, MAX(CASE WHEN branch = 0 AND NOT superseded THEN ends END)
            OVER (ORDER BY seq, branch, superseded, attempt, id
                ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)) AS lane_free,
        array_agg(started_at) FILTER (WHERE branch = 0 AND kind = 'parallel') OVER (
            PARTITION BY seq ORDER BY branch, superseded, attempt, id
            ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
        ) AS dispatches
    FROM rec
),
firsts AS (
    SELECT laned.*, CASE WHEN branch <> 0 THEN dispatches[cardinality(dispatches)] END
            AS dispatched_at,
        CASE
            WHEN status = 'queued' THEN started_at
            WHEN started_at - ready > make_interval(secs => %(min_queued)s) THEN ready
            ELSE started_at
        END AS begins
    FROM laned, LATERAL (SELECT GREATEST(CASE WHEN branch <> 0
        THEN COALESCE(dispatches[cardinality(dispatches)], started_at)
        ELSE lane_free END,
        -- Stopped until a retry: it could start from the retry at the earliest.
        (SELECT max(x) FROM unnest(%(stop_retries)s::timestamptz[]) x WHERE x <= started_at)
        ) AS ready) readied
),
item AS (
    SELECT firsts.*,
        seq || ':' || branch || CASE WHEN superseded THEN ':s' ELSE '' END AS at,
        first_value(kind) OVER attempts AS first_kind,
        first_value(name) OVER attempts AS first_name,
        first_value(begins) OVER attempts AS first_begins,
        count(*) OVER attempts AS attempts,
        row_number() OVER attempts = count(*) OVER attempts AS is_last
    FROM firsts
    WINDOW attempts AS (PARTITION BY seq, branch, superseded ORDER BY attempt, id
        ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
),
pos AS (
    SELECT item.*,
        %(show_internal)s OR NOT first_kind = ANY(%(internal)s) AS shown,
        CASE
            WHEN strpos(split_part(first_name, ':', 1), '[') > 0
                THEN 'loop:' || split_part(split_part(first_name, ':', 1), '[', 1)
            WHEN branch <> 0 THEN 'parallel:' || seq
        END || CASE WHEN superseded THEN ':superseded' ELSE '' END AS fold,
        CASE WHEN %(by_node)s THEN split_part(split_part(first_name, ':', 1), '[', 1)
            ELSE first_name END AS node
    FROM item
),
folded AS (
    SELECT fold FROM pos WHERE is_last AND shown AND fold IS NOT NULL
    GROUP BY fold HAVING count(*) > %(fold_above)s
),
placed AS (
    SELECT pos.*,
        COALESCE(fold = ANY(ARRAY(SELECT fold FROM folded)), false) AS in_fold,
        min(fold) FILTER (WHERE is_last AND shown AND branch <> 0) OVER branches AS wave_of,
        count(*) FILTER (WHERE is_last AND shown AND branch <> 0) OVER branches AS branch_rows,
        count(*) FILTER (
            WHERE is_last AND shown AND branch <> 0 AND left(fold, 5) = 'loop:'
                AND fold = ANY(ARRAY(SELECT fold FROM folded))
        ) OVER branches AS folded_items
    FROM pos
    WINDOW branches AS (PARTITION BY seq, superseded)
),
grouped AS (
    SELECT placed.*,
        branch = 0 AND first_kind = 'parallel' AND shown AND NOT in_fold AND branch_rows > 0
            AND folded_items = branch_rows AS is_wave
    FROM placed
),
member AS (
    SELECT grouped.*, fold AS part FROM grouped WHERE is_last AND shown AND in_fold
    UNION ALL
    SELECT grouped.*, 'waves:' || wave_of AS part FROM grouped WHERE is_last AND is_wave
)
"""  # noqa: S608 (the table's name)


def _query(tail: str) -> str:
    """A statement over the positions above."""
    return _POSITIONS + tail


# Per fold (or a loop fold's waves), node and status: the figures a folded row shows, and the
# few positions that the verdict and the map could pick from it (first and last, earliest
# start, latest end, most attempts, open waits, the last open one), read in full afterwards.
_SUMMARY = """,
summary AS (
    SELECT part, node, status, count(*) AS positions,
        count(*) FILTER (WHERE attempts > 1) AS retried, bool_or(any_open) AS open,
        min(first_begins) AS begins, max(ends) AS ends,
        ARRAY[
            (array_agg(at ORDER BY seq, branch))[1],
            (array_agg(at ORDER BY seq DESC, branch DESC))[1],
            (array_agg(at ORDER BY first_begins, seq, branch))[1],
            (array_agg(at ORDER BY ends DESC, seq, branch))[1],
            (array_agg(at ORDER BY attempts DESC, seq, branch))[1],
            (array_agg(at ORDER BY seq, branch) FILTER (WHERE open_wait))[1],
            (array_agg(at ORDER BY seq DESC, branch DESC)
                FILTER (WHERE open_wait AND first_kind <> 'parallel'))[1],
            (array_agg(at ORDER BY seq DESC, branch DESC) FILTER (WHERE last_open))[1]
        ] AS named
    FROM member
    GROUP BY part, node, status
)
"""

_ITEMS = _query(
    """
SELECT at, count(*) OVER () FROM grouped
WHERE is_last AND shown AND fold = %(fold)s AND in_fold
    AND (%(status)s::text IS NULL OR status = %(status)s)
ORDER BY seq, branch
"""
)

_ITEMS_IN = _query(
    "SELECT count(*) FROM grouped WHERE is_last AND shown AND fold = %(fold)s AND in_fold"
)
_ITEMS_TOTAL = _query(
    "SELECT count(*) FROM pos WHERE is_last AND shown AND fold = %(fold)s"
    " AND (%(status)s::text IS NULL OR status = %(status)s)"
)

# Every row of the positions shown as they are (outside folds, not a fold's wave) and of the
# few each fold's summary names, with when each could have started (the lane's and its
# group's moments), the summary itself, the rows hidden as internal and all rows: one statement.
_FOLDED_READ_TAIL = f"""
SELECT {_COLUMNS}, lane_free, dispatched_at,
    (SELECT count(*) FROM grouped WHERE is_last AND NOT shown),
    (SELECT count(*) FROM rec),
    -- On one row only: a code workflow's thousand differently named branches make it large.
    CASE WHEN row_number() OVER () = 1 THEN (SELECT json_agg(json_build_array(
        part, node, status, positions, retried, open, begins, ends, named
    ))::text FROM summary) END
FROM grouped
JOIN "{_TABLE}" r ON r.id = grouped.id
WHERE (shown AND NOT in_fold AND NOT is_wave)
    OR at = ANY(ARRAY(SELECT unnest(named) FROM summary))
ORDER BY r.seq, r.branch, r.attempt, r.id
"""  # noqa: S608 (the table's and columns' names)
_FOLDED_READ = _query(_SUMMARY + _FOLDED_READ_TAIL)

# The rows of the named positions (a page of items).
_READ = _query(
    f"""
SELECT {_COLUMNS}, lane_free, dispatched_at
FROM grouped
JOIN "{_TABLE}" r ON r.id = grouped.id
WHERE at = ANY(%(named)s)
ORDER BY r.seq, r.branch, r.attempt, r.id
"""  # noqa: S608 (the table's and columns' names)
)


@dataclass(frozen=True)
class GroupPart:
    """One fold's positions (`waves:<fold>`: a loop fold's waves) of one status and canvas
    node (or step name)."""

    part: str
    node: str
    status: str
    positions: int
    retried: int
    open: bool
    begins: datetime
    ends: datetime
    first: str
    last: str
    named: tuple[str, ...]
    """Positions ("seq:branch", ":s" after a superseded one) the verdict and the map could
    pick from these."""


@dataclass(frozen=True)
class ReadRow:
    values: tuple[Any, ...]
    """The journal row as ENTRY_FIELDS, its detail kept only for waits and parallel groups."""
    lane_free: datetime
    dispatched_at: datetime | None


@dataclass(frozen=True)
class FoldedRead:
    rows: list[ReadRow]
    parts: list[GroupPart]
    hidden: int
    """Positions left out as internal."""
    records: int
    """Journal rows of the run."""


class JournalPositions:
    """Queries over one run's journal as the timeline would lay it out at `horizon` (the
    run's end, `run_end`, when it ended; else now), stopped at `stops` (when it ended and when
    it was retried, each time)."""

    def __init__(
        self,
        run_id: int,
        *,
        run_start: datetime,
        horizon: datetime,
        run_end: datetime | None,
        stops: Sequence[tuple[datetime, datetime]],
        show_internal: bool,
        by_node: bool,
        fold_above: int,
    ) -> None:
        self.params: dict[str, Any] = {
            "run": run_id,
            "run_start": run_start,
            "horizon": horizon,
            "run_end": run_end,
            "stop_ends": [ended for ended, _ in stops],
            "stop_retries": [retried for _, retried in stops],
            "show_internal": show_internal,
            "by_node": by_node,
            "fold_above": fold_above,
            "waiting": sorted(WAITING_KINDS),
            "internal": sorted(INTERNAL_KINDS),
            "min_queued": MIN_QUEUED_SECONDS,
        }

    def _fetch(self, sql: str, **extra: Any) -> list[tuple[Any, ...]]:
        with connection.cursor() as cursor:
            cursor.execute(sql, {**self.params, **extra})
            return list(cursor.fetchall())

    def folded_read(self) -> FoldedRead | None:
        """What the folded timeline needs, in one statement; None when it reads no row."""
        found = self._fetch(_FOLDED_READ)
        if not found:
            return None
        hidden, records = found[0][-3:-1]
        summary = next((row[-1] for row in found if row[-1] is not None), None)
        parts = [_part(*values) for values in json.loads(summary or "[]")]
        return FoldedRead([_read_row(row[:-3]) for row in found], parts, int(hidden), int(records))

    def read(self, named: list[str]) -> list[ReadRow]:
        """The rows of the `named` positions."""
        return [_read_row(row) for row in self._fetch(_READ, named=named)]

    def items(
        self, fold: str, *, offset: int, limit: int, status: str | None
    ) -> tuple[int, int, list[str]] | None:
        """A folded group's size, how many have `status` (all when None) and the positions
        of one page of those, or None when no such group folds."""
        size = int(self._fetch(_ITEMS_IN, fold=fold)[0][0])
        if not size:
            return None
        page = self._fetch(
            _ITEMS + " LIMIT %(limit)s OFFSET %(offset)s",
            fold=fold,
            status=status,
            limit=limit,
            offset=offset,
        )
        if page:
            return size, int(page[0][1]), [at for at, _ in page]
        total = self._fetch(_ITEMS_TOTAL, fold=fold, status=status)
        return size, int(total[0][0]), []


def _read_row(row: tuple[Any, ...]) -> ReadRow:
    return ReadRow(tuple(_decoded(row[: len(ENTRY_FIELDS)])), row[-2], row[-1])


def _part(
    part: str,
    node: str,
    status: str,
    positions: int,
    retried: int,
    is_open: bool,
    begins: datetime | str,
    ends: datetime | str,
    named: list[str | None],
) -> GroupPart:
    """A summary row, read as columns or (in JSON) as text."""
    return GroupPart(
        part=part,
        node=node,
        status=status,
        positions=positions,
        retried=retried,
        open=is_open,
        begins=_moment(begins),
        ends=_moment(ends),
        first=str(named[0]),
        last=str(named[1]),
        named=tuple(at for at in named if at is not None),
    )


def _moment(value: datetime | str) -> datetime:
    return datetime.fromisoformat(value) if isinstance(value, str) else value
