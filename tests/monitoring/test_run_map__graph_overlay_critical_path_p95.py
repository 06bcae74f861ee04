"""monitoring.run_map lays a run over its published graph: node statuses, durations and
attempts, the edges taken, the critical path, and a p95 per node from recent runs of the same
version so a slow step stands out; a code workflow gets its steps in order."""

from datetime import timedelta

import pytest
from django.utils import timezone

from engine.models import GraphVersion, Run, StepRecord
from monitoring.run_map import run_map
from monitoring.run_timeline import load_timeline

GRAPH = {
    "nodes": [
        {"id": "start", "type": "trigger.manual", "position": {"x": 0, "y": 0}},
        {"id": "fast", "type": "action.python", "position": {"x": 250, "y": -80}},
        {"id": "slow", "type": "action.python", "position": {"x": 250, "y": 80}},
        {"id": "join", "type": "flow.join", "position": {"x": 500, "y": 0}},
        {"id": "never", "type": "action.python", "position": {"x": 750, "y": 0}},
    ],
    "edges": [
        {"id": "e1", "source": "start", "target": "fast"},
        {"id": "e2", "source": "start", "target": "slow"},
        {"id": "e3", "source": "fast", "target": "join"},
        {"id": "e4", "source": "slow", "target": "join"},
        {"id": "e5", "source": "join", "target": "never", "handle": "error"},
    ],
}


def a_run(t0, status="completed") -> Run:
    return Run.objects.create(
        workflow="split",
        kind="graph",
        version="v1",
        status=status,
        created_at=t0,
        started_at=t0,
        finished_at=t0 + timedelta(seconds=10),
    )


def journal(run: Run, t0, slow_seconds: float, *, fast_attempts: int = 1) -> None:
    def add(seq, name, start, end, **fields):
        StepRecord.objects.create(
            run=run,
            seq=seq,
            name=name,
            kind="step",
            status=fields.pop("status", "completed"),
            started_at=t0 + timedelta(seconds=start),
            finished_at=t0 + timedelta(seconds=end),
            **fields,
        )

    add(0, "start", 0, 0.1)
    for attempt in range(1, fast_attempts):
        add(
            1,
            "fast",
            0.1,
            0.2,
            attempt=attempt,
            status="retrying",
            retry_at=t0 + timedelta(seconds=0.3),
        )
    add(1, "fast", 0.3, 0.5, attempt=fast_attempts)
    add(2, "slow", 0.1, 0.1 + slow_seconds)
    add(3, "join", 0.2 + slow_seconds, 0.3 + slow_seconds)


@pytest.mark.django_db
def test_a_graph_run_shows_statuses_path_critical_path_and_a_slow_step() -> None:
    t0 = timezone.now() - timedelta(hours=1)
    GraphVersion.objects.create(
        workflow="split", number=1, title="Split", graph=GRAPH, published_at=t0
    )
    for index in range(6):  # recent runs: "slow" usually takes a second
        journal(a_run(t0 - timedelta(minutes=index + 1)), t0 - timedelta(minutes=index + 1), 1.0)
    run = a_run(t0)
    journal(run, t0, 5.0, fast_attempts=3)

    drawn = run_map(run, load_timeline(run).timeline)
    assert drawn.kind == "graph"
    steps = {step.key: step for step in drawn.steps}
    assert steps["fast"].attempts == 3 and steps["fast"].status == "completed"
    assert not steps["never"].ran and steps["never"].status == ""
    # start → slow → join decided when the run ended; fast did not.
    assert {key for key, step in steps.items() if step.critical} == {"start", "slow", "join"}
    edges = {(edge.source, edge.target): edge for edge in drawn.edges}
    assert edges[("start", "slow")].critical and edges[("slow", "join")].critical
    assert edges[("start", "fast")].taken and not edges[("start", "fast")].critical
    assert not edges[("join", "never")].taken
    # Five seconds against a p95 of one second: it stands out.
    assert steps["slow"].p95 == timedelta(seconds=1.0) and steps["slow"].slow
    assert not steps["start"].slow
    assert float(steps["slow"].p95_bar) < float(steps["slow"].bar)
    assert drawn.view_box.split()[0] == "-24"


@pytest.mark.django_db
def test_a_code_run_lists_its_steps_in_order() -> None:
    t0 = timezone.now()
    run = Run.objects.create(
        workflow="test-sequence", version="code", status="running", created_at=t0, started_at=t0
    )
    for seq, name in enumerate(["reserve", "charge", "ship"]):
        StepRecord.objects.create(
            run=run,
            seq=seq,
            name=name,
            kind="step",
            status="completed",
            started_at=t0,
            finished_at=t0 + timedelta(seconds=1),
        )
    drawn = run_map(run, load_timeline(run).timeline)
    assert drawn.kind == "code" and [step.label for step in drawn.steps] == [
        "reserve",
        "charge",
        "ship",
    ]
    assert drawn.edges == [] and drawn.more == 0
