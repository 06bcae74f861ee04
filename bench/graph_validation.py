"""How long validate_graph takes on a realistic 200-node graph, against plain JSON work on it.

The graph repeats a segment of conditions, Python actions with templates and retries, variables,
joins, a switch, emitted events and a for-each loop whose body returns to it. Prints the first
validation in the process (validators built, CEL compiled), the median of the following runs,
and ratios against two baselines measured in the same run on the same document: a JSON round
trip (`json.loads(json.dumps(...))`) and the bare jsonschema check of the document shape.
Never fails a build.

    .venv/bin/python bench/graph_validation.py [--size 200] [--runs 30]
"""

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

# Run as a script, this file's folder comes first on sys.path and bench/engine.py would shadow
# the engine package: the project root must come before it.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SEGMENT_NODES = 11


def realistic_graph(size: int = 200) -> dict[str, Any]:
    """A valid graph of exactly `size` nodes (at least 13): a trigger, segments, an end."""
    nodes: list[dict[str, Any]] = []
    edges: list[dict[str, Any]] = []

    def add(node_id: str, node_type: str, **config: Any) -> str:
        position = {"x": 220 * (len(nodes) % 12), "y": 140 * (len(nodes) // 12)}
        nodes.append({"id": node_id, "type": node_type, "config": config, "position": position})
        return node_id

    def link(source: str, target: str, handle: str | None = None) -> None:
        edges.append({"id": f"e{len(edges)}", "source": source, "target": target, "handle": handle})

    previous = add(
        "order-created",
        "trigger.event",
        event_types=["Order.created"],
        filter="event.amount > 0 && event.currency in ['EUR', 'USD']",
    )
    previous_handle: str | None = None
    segments = (size - 2) // SEGMENT_NODES
    for k in range(segments):
        s = f"s{k}"
        check = add(
            f"{s}-check",
            "logic.condition",
            expression=f"input.amount > {100 * k} && vars.region == 'eu' && size(input.items) > 0",
        )
        reserve = add(
            f"{s}-reserve",
            "action.python",
            action="reserve_stock",
            args={
                "order": "{{ input.id }}",
                "note": "Reserve {{ input.amount }} for {{ input.customer.name }}",
                "lines": ["{{ input.items[0].sku }}", "{{ size(input.items) }}"],
            },
            retry={"max_attempts": 5, "backoff": "exponential", "initial_delay": 2},
            timeout=30,
        )
        note = add(
            f"{s}-note",
            "flow.set",
            values={"tier": "{{ input.amount * 2 }}", "label": "small order {{ input.id }}"},
        )
        merged = add(f"{s}-merged", "logic.join", mode="any")
        route = add(
            f"{s}-route",
            "logic.switch",
            cases=[
                {"name": "gold", "when": "input.customer.tier == 'gold'"},
                {"name": "silver", "when": "input.customer.tier == 'silver' || vars.tier > 500"},
            ],
        )
        gold = add(
            f"{s}-gold",
            "action.emit",
            type="Order.prioritised",
            payload={"id": "{{ input.id }}", "segment": k, "by": "{{ vars.label }}"},
        )
        silver = add(
            f"{s}-silver",
            "action.python",
            action="notify_team",
            args={"text": "Silver order {{ input.id }}: {{ nodes['" + route + "'].output }}"},
        )
        plain = add(
            f"{s}-plain",
            "flow.transform",
            output={"summary": "{{ nodes['" + reserve + "'].output }}", "segment": k},
        )
        routed = add(f"{s}-routed", "logic.join", mode="n", count=2)
        each = add(f"{s}-each", "logic.loop", items="input.items", concurrency=5)
        line = add(
            f"{s}-line",
            "action.python",
            action="check_line",
            args={"sku": "{{ item.sku }}", "position": "{{ index + 1 }}"},
        )
        link(previous, check, previous_handle)
        link(check, reserve, "true")
        link(check, note, "false")
        link(reserve, note, "error")
        link(reserve, merged)
        link(note, merged)
        link(merged, route)
        link(route, gold, "gold")
        link(route, silver, "silver")
        link(route, plain, "default")
        for branch in (gold, silver, plain):
            link(branch, routed)
        link(routed, each)
        link(each, line, "body")
        link(line, each)
        previous, previous_handle = each, "done"
    for index in range(size - 2 - segments * SEGMENT_NODES):
        pad = add(f"tail-{index}", "flow.set", values={f"tail_{index}": "{{ now }}"})
        link(previous, pad, previous_handle)
        previous, previous_handle = pad, None
    end = add("end", "flow.end", output={"order": "{{ input.id }}", "done": True})
    link(previous, end, previous_handle)
    return {"nodes": nodes, "edges": edges, "meta": {"name": "order fulfilment"}}


def median_seconds(function: Callable[[], object], runs: int) -> float:
    samples = []
    for _ in range(runs):
        began = time.perf_counter()
        function()
        samples.append(time.perf_counter() - began)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=200)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()

    # The node library imports engine.models (record nodes), which needs Django's app registry.
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from engine.graph.nodes.library import all_node_types
    from engine.graph.validate import validate_graph
    from engine.graph.validate.shape import GRAPH_VALIDATOR

    all_node_types()  # imports the node library, which is not what is measured
    graph = realistic_graph(args.size)
    began = time.perf_counter()
    problems = validate_graph(graph)
    cold = time.perf_counter() - began
    if problems:
        raise SystemExit(f"the bench graph should be valid: {problems[:3]}")

    validation = median_seconds(lambda: validate_graph(graph), args.runs)
    round_trip = median_seconds(lambda: json.loads(json.dumps(graph)), args.runs)
    shape_only = median_seconds(lambda: GRAPH_VALIDATOR.is_valid(graph), args.runs)

    print(
        f"graph: {len(graph['nodes'])} nodes, {len(graph['edges'])} edges, "
        f"{len(json.dumps(graph)):,} bytes of JSON; median of {args.runs} runs"
    )
    rows = {
        "validate_graph, first run (builds validators)": cold,
        "validate_graph": validation,
        "baseline: json.loads(json.dumps(graph))": round_trip,
        "baseline: document schema check only": shape_only,
    }
    ratios = {
        "validate_graph / JSON round trip": validation / round_trip,
        "validate_graph / document schema check only": validation / shape_only,
    }
    width = max(map(len, [*rows, *ratios]))
    for label, seconds in rows.items():
        print(f"  {label:<{width}} {seconds * 1000:8.2f} ms")
    for label, ratio in ratios.items():
        print(f"  {label:<{width}} {ratio:8.1f} x")


if __name__ == "__main__":
    main()
