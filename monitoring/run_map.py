"""The workflow beside the timeline, with this run laid over it.

Graph workflows: the published graph's nodes where the designer put them, coloured by status,
with duration and attempts, the edges the run took and its critical path (the chain of steps
that decided when the run ended), and a faint p95 bar per step from recent runs of the same
version, so an unusually slow step stands out. Code workflows: their steps in order.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import connection

from engine.graph.format import Graph
from engine.graph.resolver import version_number
from engine.models import GraphVersion, Run, RunStatus, StepRecord
from engine.runtime.masking import NO_MASK, Mask
from monitoring.durations import format_duration
from monitoring.run_timeline import node_of
from monitoring.timeline import Row, Timeline

NODE_WIDTH, NODE_HEIGHT, MARGIN = 180, 64, 24
DRAWING_SCALE = 0.75
RECENT_RUNS = 50
MAX_SAMPLE_ROWS = 20_000
# Fewer samples than this make no useful p95.
MIN_SAMPLES = 5
BAR_WIDTH = NODE_WIDTH - 20
# A code workflow with dynamic step names can have thousands: the list shows the slowest.
MAX_LISTED_STEPS = 40


@dataclass
class StepView:
    key: str
    label: str
    status: str = ""
    step_id: int | None = None
    start: datetime | None = None
    end: datetime | None = None
    attempts: int = 0
    p95: timedelta | None = None
    x: float = 0
    y: float = 0
    critical: bool = False

    @property
    def ran(self) -> bool:
        return self.start is not None

    @property
    def duration(self) -> timedelta | None:
        return self.end - self.start if self.start and self.end else None

    @property
    def duration_text(self) -> str:
        return format_duration(self.duration)

    @property
    def p95_text(self) -> str:
        return format_duration(self.p95)

    @property
    def slow(self) -> bool:
        return self.p95 is not None and self.duration is not None and self.duration > self.p95

    def _scale(self) -> float:
        values = [v.total_seconds() for v in (self.duration, self.p95) if v is not None]
        return max(values) if values and max(values) > 0 else 1.0

    @property
    def bar(self) -> str:
        """This run's duration as a width in SVG units, against the larger of it and p95."""
        seconds = self.duration.total_seconds() if self.duration else 0.0
        return f"{seconds / self._scale() * BAR_WIDTH:.1f}"

    @property
    def p95_bar(self) -> str:
        seconds = self.p95.total_seconds() if self.p95 else 0.0
        return f"{seconds / self._scale() * BAR_WIDTH:.1f}"


@dataclass
class EdgeView:
    source: str
    target: str
    path: str
    taken: bool
    critical: bool


@dataclass
class RunMap:
    kind: str
    steps: list[StepView]
    edges: list[EdgeView] = field(default_factory=list)
    view_box: str = ""
    width: int = 0
    """The drawing's width in pixels: readable text, scrolled sideways when wider than the card."""
    more: int = 0
    """Steps left out of a long list."""


def _status_of(rows: list[Row]) -> str:
    # As on the canvas: one failed or unfinished item colours the node.
    statuses = [row.status for row in rows]
    for wanted in ("failed", "retrying", "waiting", "dispatched", "queued"):
        if wanted in statuses:
            return wanted
    return statuses[-1] if statuses else ""


def _apply_rows(steps: dict[str, StepView], rows: list[Row], *, by_node: bool) -> None:
    """Fold rows into steps: by canvas node for graphs (loop items and a node's own waits
    together), by name for code."""
    grouped: dict[str, list[Row]] = {}
    for row in rows:
        if not row.superseded and not row.internal:
            grouped.setdefault(node_of(row.name) if by_node else row.name, []).append(row)
    for key, mine in grouped.items():
        view = steps.get(key)
        if view is None:
            view = steps[key] = StepView(key=key, label=key)
        view.status = _status_of(mine)
        view.start = min(row.start for row in mine)
        view.end = max(row.end for row in mine)
        view.attempts = max(len(row.attempts) for row in mine)
        view.step_id = mine[-1].attempts[-1].id


# The p95 of each step (or canvas node) over a sample of recent runs' rows, taken in
# PostgreSQL: a fanned-out workflow's recent runs hold hundreds of thousands of rows, and only
# one duration per step is wanted. Index min(n - 1, floor(0.95 n)) of the sorted durations.
_P95 = f"""
SELECT step, took FROM (
    SELECT step, took,
        row_number() OVER (PARTITION BY step ORDER BY took) - 1 AS place,
        count(*) OVER (PARTITION BY step) AS samples
    FROM (
        SELECT CASE WHEN %(by_node)s
                THEN split_part(split_part(name, ':', 1), '[', 1) ELSE name END AS step,
            finished_at - started_at AS took
        FROM "{StepRecord._meta.db_table}"
        WHERE run_id IN (
            SELECT id FROM "{Run._meta.db_table}"
            WHERE workflow = %(workflow)s AND version = %(version)s AND status = %(completed)s
                AND id <> %(run)s
            ORDER BY created_at DESC LIMIT %(runs)s
        ) AND NOT superseded AND finished_at IS NOT NULL AND kind <> 'value'
        LIMIT %(rows)s
    ) sample
) ranked
WHERE samples >= %(min_samples)s AND place = LEAST(samples - 1, floor(0.95::float8 * samples))
"""  # noqa: S608 (the tables' names)


def recent_p95(run: Run, *, by_node: bool) -> dict[str, timedelta]:
    """p95 of each step's (node's) duration over recent completed runs of the same version."""
    if connection.vendor != "postgresql":
        return _recent_p95_read_out(run, by_node=by_node)
    with connection.cursor() as cursor:
        cursor.execute(
            _P95,
            {
                "by_node": by_node,
                "workflow": run.workflow,
                "version": run.version,
                "completed": RunStatus.COMPLETED,
                "run": run.pk,
                "runs": RECENT_RUNS,
                "rows": MAX_SAMPLE_ROWS,
                "min_samples": MIN_SAMPLES,
            },
        )
        return dict(cursor.fetchall())


def _recent_p95_read_out(run: Run, *, by_node: bool) -> dict[str, timedelta]:
    """The same figures on the embedded SQLite, from the sample's rows read out (at most
    MAX_SAMPLE_ROWS): _P95 is PostgreSQL's SQL."""
    recent = (
        Run.objects.filter(workflow=run.workflow, version=run.version, status=RunStatus.COMPLETED)
        .exclude(pk=run.pk)
        .order_by("-created_at")
        .values("pk")[:RECENT_RUNS]
    )
    rows = (
        StepRecord.objects.filter(run_id__in=recent, superseded=False, finished_at__isnull=False)
        .exclude(kind="value")
        .values_list("name", "started_at", "finished_at")[:MAX_SAMPLE_ROWS]
    )
    samples: dict[str, list[timedelta]] = {}
    for name, started, finished in rows:
        if finished is not None:  # filtered out above; the type does not know it
            samples.setdefault(node_of(name) if by_node else name, []).append(finished - started)
    return {
        key: sorted(took)[min(len(took) - 1, int(0.95 * len(took)))]
        for key, took in samples.items()
        if len(took) >= MIN_SAMPLES
    }


def _graph_of(run: Run) -> Graph | None:
    number = version_number(run.version)
    if run.kind != "graph" or number is None:
        return None
    found = GraphVersion.objects.filter(workflow=run.workflow, number=number).first()
    return Graph.from_document(found.graph) if found is not None else None


def run_map(run: Run, timeline: Timeline) -> RunMap:
    graph = _graph_of(run)
    p95 = recent_p95(run, by_node=graph is not None)
    steps: dict[str, StepView] = {}
    if graph is not None:
        for index, node in enumerate(graph.nodes):
            position = node.position
            steps[node.id] = StepView(
                key=node.id,
                label=node.label or node.id,
                x=position.x if position else 0,
                y=position.y if position else index * (NODE_HEIGHT + MARGIN),
            )
    _apply_rows(steps, timeline.rows, by_node=graph is not None)
    for key, view in steps.items():
        view.p95 = p95.get(key)
    if graph is None:
        ran = [view for view in steps.values() if view.ran]
        if len(ran) <= MAX_LISTED_STEPS:
            return RunMap(kind="code", steps=ran)
        slowest = sorted(ran, key=_took, reverse=True)[:MAX_LISTED_STEPS]
        kept = {id(view) for view in slowest}
        listed = [view for view in ran if id(view) in kept]  # in the order they ran
        return RunMap(kind="code", steps=listed, more=len(ran) - len(listed))
    known = [view for view in steps.values() if view.key in graph]
    _mark_critical_path(known, graph)
    edges = []
    for edge in graph.edges:
        source, target = steps.get(edge.source), steps.get(edge.target)
        if source is None or target is None:
            continue
        taken = source.ran and target.ran
        edges.append(
            EdgeView(
                source=source.key,
                target=target.key,
                path=_edge_path(source, target),
                taken=taken,
                critical=taken and source.critical and target.critical,
            )
        )
    box = _view_box(known)
    width = round(float(box.split()[2]) * DRAWING_SCALE)
    return RunMap(kind="graph", steps=known, edges=edges, view_box=box, width=width)


def _mark_critical_path(steps: list[StepView], graph: Graph) -> None:
    """From the step that ended last, walk back through the predecessor that ended last: the
    chain that, had any of it been faster, would have ended the run sooner."""
    by_key = {view.key: view for view in steps}
    ran = [view for view in steps if view.ran and view.end is not None]
    if not ran:
        return
    current: StepView | None = max(ran, key=_ended)
    seen: set[str] = set()
    while current is not None and current.key not in seen:
        seen.add(current.key)
        current.critical = True
        before = [
            by_key[edge.source]
            for edge in graph.incoming(current.key)
            if edge.source in by_key and by_key[edge.source].ran and by_key[edge.source].end
        ]
        current = max(before, key=_ended) if before else None


def _took(view: StepView) -> float:
    return view.duration.total_seconds() if view.duration else 0.0


def _ended(view: StepView) -> float:
    return view.end.timestamp() if view.end else 0.0


def _edge_path(source: StepView, target: StepView) -> str:
    x1, y1 = source.x + NODE_WIDTH, source.y + NODE_HEIGHT / 2
    x2, y2 = target.x, target.y + NODE_HEIGHT / 2
    bend = max(abs(x2 - x1) / 2, 30)
    return (
        f"M{x1:.0f},{y1:.0f} C{x1 + bend:.0f},{y1:.0f} {x2 - bend:.0f},{y2:.0f} {x2:.0f},{y2:.0f}"
    )


def _view_box(steps: list[StepView]) -> str:
    if not steps:
        return "0 0 100 100"
    left = min(view.x for view in steps) - MARGIN
    top = min(view.y for view in steps) - MARGIN
    right = max(view.x for view in steps) + NODE_WIDTH + MARGIN
    bottom = max(view.y for view in steps) + NODE_HEIGHT + MARGIN
    return f"{left:.0f} {top:.0f} {right - left:.0f} {bottom - top:.0f}"


def masked_map(found: RunMap, mask: Mask) -> RunMap:
    """The map with step names made from sensitive input masked (code workflows name steps)."""
    if mask is NO_MASK:
        return found
    for view in found.steps:
        view.key, view.label = mask.text(view.key), mask.text(view.label)
    for edge in found.edges:
        edge.source, edge.target = mask.text(edge.source), mask.text(edge.target)
    return found
