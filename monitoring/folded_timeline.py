"""The folded timeline's answer made from PostgreSQL's summary of each fold
(monitoring.journal_positions) and the few rows read in full: the same answer
monitoring.timeline_groups gives from every row, at the cost of a handful.

Plain Python: no request, no query.
"""

from dataclasses import dataclass
from typing import Any

from monitoring.journal_positions import GroupPart
from monitoring.timeline import Row, Timeline
from monitoring.timeline_groups import MOVING, SETTLED_ORDER

WAVES = "waves:"


def position_of(at: str) -> tuple[int, int, bool]:
    """ "12:3" → (12, 3, False); "12:3:s" → (12, 3, True)."""
    seq, branch, *superseded = at.split(":")
    return int(seq), int(branch), bool(superseded)


def at_of(row: Row) -> str:
    return f"{row.seq}:{row.branch}" + (":s" if row.superseded else "")


@dataclass
class GroupSummary:
    """One folded group as its parts add up: what timeline_groups.Group shows."""

    key: str
    parts: list[GroupPart]
    first_failed: Row | None
    waves: int

    @property
    def first(self) -> tuple[int, int, bool]:
        return min(position_of(part.first) for part in self.parts)

    @property
    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for part in sorted(self.parts, key=lambda part: position_of(part.first)):
            counts[part.status] = counts.get(part.status, 0) + part.positions
        return counts

    @property
    def status(self) -> str:
        counts = self.counts
        if any(status in counts for status in MOVING):
            return "running"
        settled = next((status for status in SETTLED_ORDER if status in counts), None)
        if settled is not None:
            return settled
        return max(self.parts, key=lambda part: position_of(part.last)).status

    @property
    def name(self) -> str:
        if self.key.startswith("loop:"):
            return self.key.removeprefix("loop:").removesuffix(":superseded")
        return f"branches of #{self.first[0]}"

    def as_json(self, timeline: Timeline) -> dict[str, Any]:
        seq, branch, superseded = self.first
        item: dict[str, Any] = {
            "group": self.key,
            "seq": seq,
            "branch": branch,
            "name": self.name,
            "kind": "group",
            "status": self.status,
            "attempts": [],
            "items": sum(part.positions for part in self.parts),
            "counts": self.counts,
            "retried": sum(part.retried for part in self.parts),
            "start": timeline.ms(min(part.begins for part in self.parts)),
            "end": timeline.ms(max(part.ends for part in self.parts)),
            "open": any(part.open for part in self.parts),
        }
        if self.waves:
            item["waves"] = self.waves
        if self.first_failed is not None:
            error = self.first_failed.attempts[-1].error_message
            item["first_error"] = {"name": self.first_failed.name, "error": error}
        if superseded:
            item["superseded"] = True
        return item


@dataclass(frozen=True)
class FoldedSummary:
    """The folded answer: the rows read as they are, each group where it began."""

    timeline: Timeline
    entries: list[Row | GroupSummary]
    groups: dict[str, GroupSummary]

    def as_json(self) -> dict[str, Any]:
        return {
            **self.timeline.as_json_head(),
            "rows": [
                entry.as_json(self.timeline)
                if isinstance(entry, GroupSummary)
                else self.timeline.row_json(entry)
                for entry in self.entries
            ],
            "groups": len(self.groups),
        }


def summarise(timeline: Timeline, parts: list[GroupPart]) -> FoldedSummary:
    """`timeline` holds the rows outside every fold and the rows its parts name."""
    named = {at for part in parts for at in part.named}
    by_at = {at_of(row): row for row in timeline.rows}
    members: dict[str, list[GroupPart]] = {}
    waves: dict[str, int] = {}
    for part in parts:
        if part.part.startswith(WAVES):
            fold = part.part.removeprefix(WAVES)
            waves[fold] = waves.get(fold, 0) + part.positions
        else:
            members.setdefault(part.part, []).append(part)
    groups = {}
    for key, found in members.items():
        failed = [position_of(part.first) for part in found if part.status == "failed"]
        first_failed = by_at.get(at_of_position(min(failed))) if failed else None
        groups[key] = GroupSummary(key, found, first_failed, waves.get(key, 0))
    placed: list[tuple[tuple[int, int, bool], Row | GroupSummary]] = [
        ((row.seq, row.branch, row.superseded), row)
        for row in timeline.rows
        if at_of(row) not in named
    ]
    placed += [(group.first, group) for group in groups.values()]
    placed.sort(key=lambda pair: (pair[0][0], pair[0][1], pair[0][2]))
    return FoldedSummary(timeline, [entry for _, entry in placed], groups)


def at_of_position(position: tuple[int, int, bool]) -> str:
    seq, branch, superseded = position
    return f"{seq}:{branch}" + (":s" if superseded else "")
