"""A fanned-out run's timeline, folded for people: a loop's items (`work[0]` … `work[9999]`) and
the branches of a big parallel group each become one row with counts by status and a span, so
the first answer stays small whatever the fan-out; the items are read a page at a time.

Plain Python over a built Timeline: no request, no query.
"""

from collections import Counter
from dataclasses import dataclass
from typing import Any

from monitoring.timeline import Row, Timeline

# A group of more rows than this folds; a handful of branches reads better side by side.
FOLD_ABOVE = 20
# Still moving: a group with any of these is shown running, whatever else it holds.
MOVING = ("running", "retrying", "waiting", "queued")
SETTLED_ORDER = ("failed", "cancelled", "completed")


def group_key(row: Row) -> str | None:
    """The fold a row belongs to: `loop:<node>` for a loop item (`send[3]`, `send[3][0]`,
    `send[3]:wait`), `parallel:<seq>` for a branch of a parallel group, else None."""
    base = row.name.split(":", 1)[0]
    if "[" in base:
        key = "loop:" + base.split("[", 1)[0]
    elif row.branch:
        key = f"parallel:{row.seq}"
    else:
        return None
    return key + ":superseded" if row.superseded else key


@dataclass
class Group:
    """The rows of one fold, in journal order."""

    key: str
    name: str
    rows: list[Row]
    waves: int = 0
    """Parallel rows that only dispatched this loop's items (a graph runs a loop's ready items
    as one parallel group per wave): folded in with it."""

    @property
    def status(self) -> str:
        counts = self.counts
        if any(status in counts for status in MOVING):
            return "running"
        return next((status for status in SETTLED_ORDER if status in counts), self.rows[-1].status)

    @property
    def counts(self) -> dict[str, int]:
        return dict(Counter(row.status for row in self.rows))

    def as_json(self, timeline: Timeline) -> dict[str, Any]:
        first = self.rows[0]
        failing = next((row for row in self.rows if row.status == "failed"), None)
        item: dict[str, Any] = {
            "group": self.key,
            "seq": first.seq,
            "branch": first.branch,
            "name": self.name,
            "kind": "group",
            "status": self.status,
            # A group has no attempts of its own: its items have (GET …/timeline/items).
            "attempts": [],
            "items": len(self.rows),
            "counts": self.counts,
            "retried": sum(1 for row in self.rows if len(row.attempts) > 1),
            "start": timeline.ms(min(row.start for row in self.rows)),
            "end": timeline.ms(max(row.end for row in self.rows)),
            "open": any(s.open for row in self.rows for s in row.attempts[-1].segments),
        }
        if self.waves:
            item["waves"] = self.waves
        if failing is not None:
            error = failing.attempts[-1].error_message
            item["first_error"] = {"name": failing.name, "error": error}
        if first.superseded:
            item["superseded"] = True
        return item


@dataclass(frozen=True)
class Folded:
    """The timeline's rows with every big group folded into one entry where it began."""

    timeline: Timeline
    entries: list[Row | Group]
    groups: dict[str, Group]

    def as_json(self) -> dict[str, Any]:
        """The timeline's answer (Timeline.as_json) with folded groups as rows of their own."""
        return {
            **self.timeline.as_json_head(),
            "rows": [
                entry.as_json(self.timeline)
                if isinstance(entry, Group)
                else self.timeline.row_json(entry)
                for entry in self.entries
            ],
            "groups": len(self.groups),
        }


def fold(timeline: Timeline, *, fold_above: int = FOLD_ABOVE) -> Folded:
    rows = timeline.rows
    members: dict[str, list[Row]] = {}
    for row in rows:
        key = group_key(row)
        if key is not None:
            members.setdefault(key, []).append(row)
    folded = {key for key, found in members.items() if len(found) > fold_above}
    # Per parallel group, the folds its branches went to (None: a branch shown as it is).
    branch_folds: dict[tuple[int, bool], set[str | None]] = {}
    for row in rows:
        if row.branch:
            key = group_key(row)
            branch_folds.setdefault((row.seq, row.superseded), set()).add(
                key if key in folded else None
            )
    groups: dict[str, Group] = {}
    waves: Counter[str] = Counter()
    entries: list[Row | Group] = []
    for row in rows:
        key = group_key(row)
        if key is not None and key in folded:
            if key not in groups:
                groups[key] = Group(key, _group_name(row, key), members[key])
                entries.append(groups[key])
            continue
        wave_of = _wave_of(row, branch_folds)
        if wave_of is not None:
            waves[wave_of] += 1
            continue
        entries.append(row)
    for key, count in waves.items():
        groups[key].waves = count
    return Folded(timeline, entries, groups)


def _group_name(row: Row, key: str) -> str:
    if key.startswith("loop:"):
        return row.name.split(":", 1)[0].split("[", 1)[0]
    return f"branches of #{row.seq}"


def _wave_of(row: Row, branch_folds: dict[tuple[int, bool], set[str | None]]) -> str | None:
    """The loop fold of a parallel row whose branches were all folded loop items, else None."""
    if row.branch or row.kind != "parallel":
        return None
    found = branch_folds.get((row.seq, row.superseded), set())
    if not found or any(key is None or not key.startswith("loop:") for key in found):
        return None
    return min(key for key in found if key is not None)


@dataclass(frozen=True)
class ItemsPage:
    rows: list[Row]
    total: int
    """Items matching the filter, on every page."""


def items_page(group: Group, *, offset: int, limit: int, status: str | None) -> ItemsPage:
    """The group's items from `offset`, at most `limit`, only those whose status is `status`
    when given."""
    matching = group.rows if status is None else [r for r in group.rows if r.status == status]
    return ItemsPage(matching[offset : offset + limit], len(matching))
