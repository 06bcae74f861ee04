"""The interpreter's cost per node: a graph of N action nodes against the same N steps in code.

Both call the same registered action (`bench.noop`) on a real `celery worker` (prefork, one
process) over PostgreSQL and Redis, in the bench database bench/engine.py prepares. Runs of
each kind alternate so that both meet the same noise; the code workflow is the baseline. The
aim is a per-node time within 1.5x of the per-step time of code. Prints figures, never fails.

    .venv/bin/python bench/graph_overhead.py [--runs 20] [--nodes 20] [--quick]
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.engine import (
    LATENCY_POLL,
    SAMPLE_TIMEOUT,
    BenchError,
    Progress,
    bench_environment,
    celery_worker,
    check_completed,
    clean_up,
    note,
    poll,
    prepare_database,
)

GRAPH = "bench-graph"
CODE = "bench-actions"
AIM_RATIO = 1.5


def bench_graph(nodes: int) -> dict[str, Any]:
    """trigger → n0 → n1 → … each an action.python node calling bench.noop."""
    document: dict[str, Any] = {
        "nodes": [{"id": "start", "type": "trigger.manual", "config": {}}],
        "edges": [],
    }
    previous = "start"
    for index in range(nodes):
        node_id = f"n{index}"
        document["nodes"].append(
            {
                "id": node_id,
                "type": "action.python",
                "config": {"action": "bench.noop", "args": {"index": index}},
                "position": {"x": 200 * index, "y": 0},
            }
        )
        document["edges"].append({"id": f"e{index}", "source": previous, "target": node_id})
        previous = node_id
    return document


def publish(nodes: int) -> None:
    from django.utils import timezone

    from engine.graph.validate import validate_graph
    from engine.models import GraphVersion

    document = bench_graph(nodes)
    problems = validate_graph(document)
    if problems:
        raise BenchError(f"the bench graph is invalid: {problems[:3]}")
    GraphVersion.objects.filter(workflow=GRAPH).delete()
    GraphVersion.objects.create(
        workflow=GRAPH, number=1, title="Bench", graph=document, published_at=timezone.now()
    )


def latency(workflow: str, nodes: int) -> float:
    from engine.models import TERMINAL_STATUSES, Run
    from engine.runtime.runs import start_run

    began = time.perf_counter()
    run = start_run(workflow, {"steps": nodes})
    rows = Run.objects.filter(pk=run.pk).values_list("status", flat=True)
    poll(lambda: rows.first() in TERMINAL_STATUSES, LATENCY_POLL, SAMPLE_TIMEOUT, f"run {run.pk}")
    elapsed = time.perf_counter() - began
    check_completed([run.pk])
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, help="samples of each kind (default 20)")
    parser.add_argument("--nodes", type=int, default=20, help="action nodes per graph")
    parser.add_argument("--quick", action="store_true", help="few samples, for a smoke check")
    args = parser.parse_args()
    runs = args.runs or (4 if args.quick else 20)
    env = bench_environment()
    note(f"preparing {env['DATABASE_URL']} ...")
    try:
        prepare_database(env)
        os.environ.update(env)
        import django

        django.setup()
        from config.celery import app

        clean_up(app)
        publish(args.nodes)
        with (
            tempfile.TemporaryDirectory(prefix="stepwise-bench-") as log_dir,
            celery_worker(app, env, Path(log_dir), concurrency=1),
        ):
            for _ in range(3):  # imports, connections and compiled programs warm up
                latency(GRAPH, args.nodes)
                latency(CODE, args.nodes)
            graphs, codes = [], []
            progress = Progress(runs, f"graphs and code workflows of {args.nodes} steps")
            for index in range(runs):
                graphs.append(latency(GRAPH, args.nodes))
                codes.append(latency(CODE, args.nodes))
                progress.show(index + 1)
        clean_up(app)
    except BenchError as exc:
        note(f"\nbench/graph_overhead.py could not measure: {exc}")
        raise SystemExit(1) from None
    # The graph also journals its trigger node: one step more than the code workflow.
    per_node = statistics.median(graphs) / (args.nodes + 1)
    per_step = statistics.median(codes) / args.nodes
    ratio = per_node / per_step
    print(f"Graph interpreter overhead ({runs} runs of each, {args.nodes} action nodes)")
    print(
        f"  code workflow  median {statistics.median(codes) * 1000:7.1f} ms   "
        f"{per_step * 1000:5.2f} ms per step   (baseline)"
    )
    print(
        f"  graph          median {statistics.median(graphs) * 1000:7.1f} ms   "
        f"{per_node * 1000:5.2f} ms per node   {ratio:4.2f}x"
    )
    verdict = "met" if ratio <= AIM_RATIO else "not met"
    print(f"  aim: per node within {AIM_RATIO}x of per step in code: {verdict}")


if __name__ == "__main__":
    main()
