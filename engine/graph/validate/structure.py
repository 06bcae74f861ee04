"""The graph's structure: ids, edges and handles, reachability, cycles, loops and joins,
compensation and four-eyes links between nodes. Graph algorithms only; no config schemas."""

from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence

from engine.graph.format import Graph
from engine.graph.nodes.base import NORMAL, NodeType, Problem


def is_trigger(node_type: NodeType | None) -> bool:
    return node_type is not None and node_type.is_trigger


def duplicate_ids(graph: Graph) -> list[Problem]:
    problems: list[Problem] = []
    first_node: dict[str, int] = {}
    for index, node in enumerate(graph.nodes):
        first = first_node.setdefault(node.id, index)
        if first != index:
            message = f"nodes[{first}] has the same id; node ids must be unique"
            problems.append(Problem(node.id, "id", message))
    first_edge: dict[str, int] = {}
    for index, edge in enumerate(graph.edges):
        first = first_edge.setdefault(edge.id, index)
        if first != index:
            message = f"edges[{first}] has the same id '{edge.id}'; edge ids must be unique"
            problems.append(Problem(None, f"edges[{index}].id", message))
    return problems


def edge_problems(
    graph: Graph, types: Mapping[str, NodeType], handles: Mapping[str, tuple[str, ...]]
) -> list[Problem]:
    problems: list[Problem] = []
    seen: dict[tuple[str, str, str], int] = {}
    for index, edge in enumerate(graph.edges):
        where = f"edges[{index}]"
        dangling = False
        for end in ("source", "target"):
            node_id = getattr(edge, end)
            if node_id not in graph:
                problems.append(Problem(None, f"{where}.{end}", f"no node has the id '{node_id}'"))
                dangling = True
        if dangling:
            continue
        if is_trigger(types.get(edge.target)):
            message = f"'{edge.target}' is a trigger; no edge may lead into a trigger"
            problems.append(Problem(None, f"{where}.target", message))
        if edge.source == edge.target:
            message = f"the edge leads from '{edge.source}' back to itself"
            problems.append(Problem(None, f"{where}.target", message))
        key = (edge.source, edge.handle, edge.target)
        first = seen.setdefault(key, index)
        if first != index:
            message = f"edges[{first}] already joins the same source, handle and target"
            problems.append(Problem(None, where, message))
        available = handles.get(edge.source)
        if available is not None and edge.handle not in available:
            problems.append(
                Problem(
                    None, f"{where}.handle", _handle_message(edge.source, edge.handle, available)
                )
            )
    return problems


def _handle_message(source: str, handle: str, available: Sequence[str]) -> str:
    names = ", ".join(
        "(none: the normal output)" if name == NORMAL else f"'{name}'"
        for name in dict.fromkeys(available)
    )
    if handle == NORMAL:
        return f"'{source}' has no normal output; an edge from it needs a handle: {names}"
    return f"'{source}' has no output '{handle}'; its outputs are {names}"


def _links(graph: Graph) -> dict[str, list[str]]:
    """Successors by node id, over edges whose ends exist, without self-loops."""
    successors: dict[str, list[str]] = {node.id: [] for node in graph.nodes}
    for edge in graph.edges:
        if edge.source in graph and edge.target in graph and edge.source != edge.target:
            successors[edge.source].append(edge.target)
    return successors


def _reach(successors: Mapping[str, list[str]], roots: Iterable[str]) -> set[str]:
    reached = set(roots)
    queue = deque(reached)
    while queue:
        for target in successors.get(queue.popleft(), ()):
            if target not in reached:
                reached.add(target)
                queue.append(target)
    return reached


def unreachable(graph: Graph, triggers: list[str], exempt: Mapping[str, str]) -> list[Problem]:
    reached = _reach(_links(graph), triggers)
    problems: list[Problem] = []
    reported: set[str] = set()
    for node in graph.nodes:
        if node.id in reached or node.id in exempt or node.id in reported:
            continue
        reported.add(node.id)
        problems.append(Problem(node.id, None, "no trigger leads to this node"))
    return problems


def cycles(graph: Graph, types: Mapping[str, NodeType]) -> list[Problem]:
    """Cycles that do not return to a loop from inside its body (a loop's "next item")."""
    links = _links(graph)
    successors = dict(links)
    for node_id, node_type in types.items():
        if node_type.loop is None:
            continue
        body_starts = [
            edge.target
            for edge in graph.outgoing(node_id, node_type.loop.body)
            if edge.target in graph and edge.target != node_id
        ]
        # The body is what the loop's body edges reach without passing the loop itself.
        body = _reach({**links, node_id: []}, body_starts)
        for member in body:
            successors[member] = [target for target in successors[member] if target != node_id]
    problems: list[Problem] = []
    order = {node.id: index for index, node in enumerate(graph.nodes)}
    for component in _strongly_connected(list(successors), successors):
        if len(component) < 2:
            continue
        members = set(component)
        start = min(component, key=order.__getitem__)
        path = " → ".join(f"'{node_id}'" for node_id in _cycle_through(start, members, successors))
        message = (
            f"{path} form a cycle outside any loop; only a logic.loop may repeat steps "
            "(an edge from its body back to the loop)"
        )
        problems.append(Problem(start, None, message))
    return problems


def _cycle_through(start: str, members: set[str], successors: Mapping[str, list[str]]) -> list[str]:
    """A shortest cycle from `start` back to it, within one strongly connected component."""
    previous: dict[str, str] = {}
    queue = deque([start])
    while queue:
        current = queue.popleft()
        for target in successors[current]:
            if target == start:
                path = [current]
                while path[-1] != start:
                    path.append(previous[path[-1]])
                return [*reversed(path), start]
            if target in members and target not in previous:
                previous[target] = current
                queue.append(target)
    return [start, start]  # unreachable for a component of two or more nodes


def _strongly_connected(nodes: list[str], successors: Mapping[str, list[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative so that a long chain of nodes cannot overflow the stack."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(node_id: str) -> None:
        index[node_id] = low[node_id] = len(index)
        stack.append(node_id)
        on_stack.add(node_id)

    for root in nodes:
        if root in index:
            continue
        visit(root)
        work: list[tuple[str, Iterator[str]]] = [(root, iter(successors[root]))]
        while work:
            node_id, children = work[-1]
            for child in children:
                if child not in index:
                    visit(child)
                    work.append((child, iter(successors[child])))
                    break
                if child in on_stack:
                    low[node_id] = min(low[node_id], index[child])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node_id])
                if low[node_id] == index[node_id]:
                    component: list[str] = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node_id:
                            break
                    components.append(component)
    return components


def loops_and_joins(
    graph: Graph, types: Mapping[str, NodeType], valid_config: set[str]
) -> list[Problem]:
    problems: list[Problem] = []
    for node_id, node_type in types.items():
        loop = node_type.loop
        if loop is not None and not graph.outgoing(node_id, loop.body):
            message = f"the loop has no '{loop.body}' edge to the steps it repeats for each item"
            problems.append(Problem(node_id, None, message))
        if node_type.join is None:
            continue
        incoming = sum(
            1 for edge in graph.incoming(node_id) if edge.source in graph and edge.source != node_id
        )
        if incoming < 2:
            message = (
                f"a join merges branches: it needs at least 2 incoming edges, it has {incoming}"
            )
            problems.append(Problem(node_id, None, message))
        config = graph.node(node_id).config
        count = config.get("count")
        if (
            node_id in valid_config
            and config.get("mode") == "n"
            and isinstance(count, int)
            and count > incoming
        ):
            message = f"the join waits for {count} branches but only {incoming} lead into it"
            problems.append(Problem(node_id, "config.count", message))
    return problems


def compensation_targets(graph: Graph, types: Mapping[str, NodeType]) -> dict[str, str]:
    """Compensation node id → the first node naming it."""
    targets: dict[str, str] = {}
    for node_id, node_type in types.items():
        target = (
            graph.node(node_id).config.get("compensation") if node_type.error_handling else None
        )
        if isinstance(target, str) and target:
            targets.setdefault(target, node_id)
    return targets


def compensation_problems(graph: Graph, types: Mapping[str, NodeType]) -> list[Problem]:
    problems: list[Problem] = []
    field = "config.compensation"
    for node_id, node_type in types.items():
        target = (
            graph.node(node_id).config.get("compensation") if node_type.error_handling else None
        )
        if not isinstance(target, str) or not target:
            continue
        if target not in graph:
            problems.append(Problem(node_id, field, f"no node has the id '{target}'"))
        elif target == node_id:
            problems.append(Problem(node_id, field, "a node cannot compensate itself"))
        elif is_trigger(types.get(target)):
            message = f"'{target}' is a trigger; a trigger cannot undo a step"
            problems.append(Problem(node_id, field, message))
        elif target in types and not types[target].error_handling:
            # Only the node's own step runs: an approval would open a task nobody waits for.
            message = f"'{target}' is a {types[target].type} node; compensations are action nodes"
            problems.append(Problem(node_id, field, message))
        elif graph.incoming(target):
            message = (
                f"'{target}' has incoming edges; a compensation node runs only when the run "
                "fails later, so no edge may lead into it"
            )
            problems.append(Problem(node_id, field, message))
    return problems


def four_eyes_problems(graph: Graph, types: Mapping[str, NodeType]) -> list[Problem]:
    """`distinct_from` names other approval or review nodes of the graph."""
    problems: list[Problem] = []
    for node_id, node_type in types.items():
        stages = graph.node(node_id).config.get("distinct_from")
        if node_type.group != "human" or not isinstance(stages, list):
            continue
        for index, stage in enumerate(stages):
            field = f"config.distinct_from[{index}]"
            if stage == node_id:
                problems.append(Problem(node_id, field, "a step cannot be distinct from itself"))
            elif stage not in graph:
                problems.append(Problem(node_id, field, f"no node has the id '{stage}'"))
            elif stage in types and types[stage].group != "human":
                message = f"'{stage}' is a {types[stage].type} node, not an approval or review"
                problems.append(Problem(node_id, field, message))
    return problems
