"""A run's journal summarised in PostgreSQL, position by position, so a fan-out of 10,000 items
is counted and spanned where it lies instead of read and laid out row by row.

Every figure here is the one monitoring.timeline computes in Python (a row's start with its
queueing, its end with its back-off, whether it is still open) and monitoring.timeline_groups
groups by (a loop's items, a big parallel group's branches): the SQL says it again, so the two
must change together (tests/monitoring/test_folded_timeline__matches_the_laid_out_one.py).
"""

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection

from engine.models import StepRecord
from monitoring.timeline import ENTRY_FIELDS, INTERNAL_KINDS, MIN_QUEUED_SECONDS, WAITING_KINDS

Position = tuple[int, int, bool]
"""(seq, branch, superseded): one row of the timeline."""

_TABLE = StepRecord._meta.db_table

# rec: each journal row with where its last span ends and whether it is still open;
# laned: with when the run's own lane was free before it (the previous positions' ends);
# pos: one row per position, from its first attempt's start to its last attempt's end;
# item: with the fold it belongs to (timeline_groups.group_key) and its canvas node or name.
_POSITIONS = f"""
WITH rec AS (
    SELECT r.id, r.seq, r.branch, r.superseded, r.attempt, r.kind, r.name, r.status,
        r.started_at,
        CASE
            WHEN r.status = 'queued' THEN COALESCE(r.finished_at, %(horizon)s)
            WHEN r.status = 'retrying' AND r.retry_at IS NOT NULL AND r.finished_at IS NOT NULL
                THEN GREATEST(r.retry_at, r.finished_at)
            WHEN r.kind = ANY(%(waiting)s) THEN COALESCE(r.finished_at, %(horizon)s)
            ELSE GREATEST(COALESCE(r.finished_at, %(horizon)s), r.started_at)
        END AS ends,
        CASE
            WHEN r.status = 'retrying' AND r.retry_at IS NOT NULL
                AND r.finished_at IS NOT NULL THEN GREATEST(r.retry_at, r.finished_at) > %(horizon)s
            ELSE r.finished_at IS NULL
        END AS last_open,
        r.finished_at IS NULL OR (
            r.status = 'retrying' AND r.retry_at IS NOT NULL AND r.finished_at IS NOT NULL
            AND GREATEST(r.retry_at, r.finished_at) > %(horizon)s
        ) AS any_open,
        r.finished_at IS NULL AND r.status <> 'queued' AND r.kind = ANY(%(waiting)s) AS open_wait
    FROM "{_TABLE}" r
    WHERE r.run_id = %(run)s
),
laned AS (
    SELECT rec.*,
        GREATEST(%(run_start)s, MAX(CASE WHEN rec.branch = 0 AND NOT rec.superseded
            THEN rec.ends END) OVER (
                ORDER BY rec.seq, rec.branch, rec.superseded, rec.attempt, rec.id
                ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
            )) AS lane_free,
        dispatch.started_at AS dispatched_at
    FROM rec
    LEFT JOIN (
        SELECT DISTINCT ON (seq) seq, started_at FROM rec
        WHERE branch = 0 AND kind = 'parallel'
        ORDER BY seq, superseded DESC, attempt DESC, id DESC
    ) dispatch ON rec.branch <> 0 AND dispatch.seq = rec.seq
),
readied AS (
    SELECT laned.*,
        CASE WHEN branch <> 0 THEN COALESCE(dispatched_at, started_at) ELSE lane_free END
            AS ready
    FROM laned
),
firsts AS (
    SELECT readied.*,
        CASE
            WHEN status = 'queued' THEN started_at
            WHEN started_at - ready > make_interval(secs => %(min_queued)s) THEN ready
            ELSE started_at
        END AS begins
    FROM readied
),
pos AS (
    SELECT seq, branch, superseded,
        seq || ':' || branch || CASE WHEN superseded THEN ':s' ELSE '' END AS at,
        (array_agg(kind ORDER BY attempt, id))[1] AS kind,
        (array_agg(name ORDER BY attempt, id))[1] AS name,
        (array_agg(begins ORDER BY attempt, id))[1] AS begins,
        (array_agg(status ORDER BY attempt DESC, id DESC))[1] AS status,
        (array_agg(ends ORDER BY attempt DESC, id DESC))[1] AS ends,
        (array_agg(last_open ORDER BY attempt DESC, id DESC))[1] AS last_open,
        (array_agg(any_open ORDER BY attempt DESC, id DESC))[1] AS any_open,
        (array_agg(open_wait ORDER BY attempt DESC, id DESC))[1] AS open_wait,
        count(*) AS attempts
    FROM firsts
    GROUP BY seq, branch, superseded
),
item AS (
    SELECT pos.*,
        %(show_internal)s OR NOT pos.kind = ANY(%(internal)s) AS shown,
        CASE
            WHEN strpos(split_part(pos.name, ':', 1), '[') > 0
                THEN 'loop:' || split_part(split_part(pos.name, ':', 1), '[', 1)
            WHEN pos.branch <> 0 THEN 'parallel:' || pos.seq
        END || CASE WHEN pos.superseded THEN ':superseded' ELSE '' END AS fold,
        CASE WHEN %(by_node)s THEN split_part(split_part(pos.name, ':', 1), '[', 1)
            ELSE pos.name END AS node
    FROM pos
),
folded AS (
    SELECT fold FROM item WHERE shown AND fold IS NOT NULL
    GROUP BY fold HAVING count(*) > %(fold_above)s
),
wave AS (
    SELECT parallel.seq, parallel.superseded, min(branch.fold) AS fold
    FROM item parallel
    JOIN item branch ON branch.seq = parallel.seq AND branch.superseded = parallel.superseded
        AND branch.branch <> 0 AND branch.shown
    WHERE parallel.branch = 0 AND parallel.kind = 'parallel' AND parallel.shown
        AND (parallel.fold IS NULL OR parallel.fold NOT IN (SELECT fold FROM folded))
    GROUP BY parallel.seq, parallel.superseded
    HAVING bool_and(COALESCE(
        branch.fold IN (SELECT fold FROM folded) AND left(branch.fold, 5) = 'loop:', false
    ))
),
member AS (
    SELECT item.*, item.fold AS part FROM item
    WHERE item.shown AND item.fold IN (SELECT fold FROM folded)
    UNION ALL
    SELECT item.*, 'waves:' || wave.fold AS part FROM item
    JOIN wave ON wave.seq = item.seq AND wave.superseded = item.superseded AND item.branch = 0
)
"""  # noqa: S608 (the table's name)


def _query(tail: str) -> str:
    """A statement over the positions above."""
    return _POSITIONS + tail


# Per fold (or a loop fold's waves), node and status: the figures a folded row shows, and the
# few positions that the verdict and the map could pick from it (first and last, earliest
# start, latest end, most attempts, open waits, the last open one), read in full afterwards.
_GROUPS = _query(
    """
SELECT part, node, status, count(*), count(*) FILTER (WHERE attempts > 1),
    bool_or(any_open), min(begins), max(ends),
    ARRAY[
        (array_agg(at ORDER BY seq, branch))[1],
        (array_agg(at ORDER BY seq DESC, branch DESC))[1],
        (array_agg(at ORDER BY begins, seq, branch))[1],
        (array_agg(at ORDER BY ends DESC, seq, branch))[1],
        (array_agg(at ORDER BY attempts DESC, seq, branch))[1],
        (array_agg(at ORDER BY seq, branch) FILTER (WHERE open_wait))[1],
        (array_agg(at ORDER BY seq DESC, branch DESC)
            FILTER (WHERE open_wait AND kind <> 'parallel'))[1],
        (array_agg(at ORDER BY seq DESC, branch DESC) FILTER (WHERE last_open))[1]
    ]
FROM member
GROUP BY part, node, status
"""
)

_HIDDEN = _query("SELECT count(*) FROM item WHERE NOT shown")

_ITEMS = _query(
    """
SELECT at, count(*) OVER () FROM item
WHERE shown AND fold = %(fold)s AND fold IN (SELECT fold FROM folded)
    AND (%(status)s::text IS NULL OR status = %(status)s)
ORDER BY seq, branch
"""
)

_ITEMS_IN = _query(
    "SELECT count(*) FROM item WHERE shown AND fold = %(fold)s"
    " AND fold IN (SELECT fold FROM folded)"
)
_ITEMS_TOTAL = _query(
    "SELECT count(*) FROM item WHERE shown AND fold = %(fold)s"
    " AND (%(status)s::text IS NULL OR status = %(status)s)"
)

# Django leaves JSON columns as text for their fields to decode; these rows skip the fields.
_JSON_AT = frozenset(ENTRY_FIELDS.index(name) for name in ("error", "detail"))


def _decoded(values: tuple[Any, ...]) -> Iterator[Any]:
    for index, value in enumerate(values):
        yield json.loads(value) if index in _JSON_AT and isinstance(value, str) else value


_COLUMNS = ", ".join(
    "CASE WHEN r.kind IN ('wait', 'parallel') THEN r.detail END"
    if name == "detail"
    else f"r.{'id' if name == 'pk' else name}"
    for name in ENTRY_FIELDS
)

# Every row of the positions shown as they are (outside folds, not a fold's wave), and of
# the named ones, with when each could have started: the lane's and its group's moments.
_READ = _query(
    f"""
SELECT {_COLUMNS}, laned.lane_free, laned.dispatched_at
FROM "{_TABLE}" r
JOIN laned ON laned.id = r.id
JOIN item ON item.seq = r.seq AND item.branch = r.branch AND item.superseded = r.superseded
WHERE (
    %(rest)s AND item.shown
    AND (item.fold IS NULL OR item.fold NOT IN (SELECT fold FROM folded))
    AND NOT EXISTS (
        SELECT 1 FROM wave WHERE wave.seq = item.seq AND wave.superseded = item.superseded
            AND item.branch = 0
    )
) OR item.at = ANY(%(named)s)
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


class JournalPositions:
    """Queries over one run's journal as the timeline would lay it out at `horizon`."""

    def __init__(
        self,
        run_id: int,
        *,
        run_start: datetime,
        horizon: datetime,
        show_internal: bool,
        by_node: bool,
        fold_above: int,
    ) -> None:
        self.params: dict[str, Any] = {
            "run": run_id,
            "run_start": run_start,
            "horizon": horizon,
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

    def groups(self) -> list[GroupPart]:
        return [
            GroupPart(
                part=row[0],
                node=row[1],
                status=row[2],
                positions=row[3],
                retried=row[4],
                open=row[5],
                begins=row[6],
                ends=row[7],
                first=row[8][0],
                last=row[8][1],
                named=tuple(at for at in row[8] if at is not None),
            )
            for row in self._fetch(_GROUPS)
        ]

    def hidden(self) -> int:
        """Positions left out as internal."""
        return int(self._fetch(_HIDDEN)[0][0])

    def read(self, named: list[str], *, rest: bool) -> list[ReadRow]:
        """The rows of the `named` positions and (`rest`) of every position not folded."""
        return [
            ReadRow(tuple(_decoded(row[: len(ENTRY_FIELDS)])), row[-2], row[-1])
            for row in self._fetch(_READ, named=named, rest=rest)
        ]

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
