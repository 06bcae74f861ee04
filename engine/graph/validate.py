"""Everything wrong with a graph document, reported at once, each problem naming node and field.

Field paths are relative to the node for node problems (`config.cases[1].when`, `type`) and to
the document for the rest (`edges[3].target`, `nodes[0].id`); graph-level problems have no node.
The document shape is checked first: when it is broken, only those problems are reported,
because nothing past the shape can be read reliably.
"""

import difflib
import json
import re
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match

from engine.core.expressions import ExpressionError, compile_expression
from engine.core.templates import compile_template
from engine.graph.format import GRAPH_SCHEMA, NODE_ID_PATTERN, Graph
from engine.graph.nodes.base import (
    ERROR_HANDLING_SCHEMA,
    NORMAL,
    CheckContext,
    NodeType,
    Problem,
    all_node_types,
    get_node_type,
)

__all__ = ["config_schema", "validate_graph", "validate_node_config"]

LOOP = "logic.loop"
LOOP_BODY = "body"
JOIN = "logic.join"

_DEFAULT_CONTEXT = CheckContext()
_GRAPH_VALIDATOR = Draft202012Validator(GRAPH_SCHEMA)
# Built once per node type: building a validator costs far more than running it.
_config_validators: dict[str, tuple[NodeType, Draft202012Validator]] = {}
_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
_JSON_TYPES = {
    "object": "an object",
    "array": "a list",
    "string": "text",
    "number": "a number",
    "integer": "a whole number",
    "boolean": "true or false",
    "null": "null",
}


def validate_graph(document: object, context: CheckContext = _DEFAULT_CONTEXT) -> list[Problem]:
    """Every problem of a graph document; an empty list means it can be published."""
    if not _fits_graph_schema(document):
        shape = _schema_problems(_GRAPH_VALIDATOR, document, prefix="", node=None)
        if shape:
            return shape
    assert isinstance(document, Mapping)
    graph = Graph.from_document(document)
    problems: list[Problem] = []
    problems += _duplicate_ids(graph)

    types: dict[str, NodeType] = {}
    handles: dict[str, tuple[str, ...]] = {}
    valid_config: set[str] = set()
    for node in graph.nodes:
        node_type = get_node_type(node.type)
        if node_type is None:
            problems.append(Problem(node.id, "type", _unknown_type(node.type)))
            continue
        found, config_ok = _check_config(node_type, node.id, node.config)
        problems += found
        if node.id in types:
            continue
        types[node.id] = node_type
        if config_ok:
            valid_config.add(node.id)
            handles[node.id] = node_type.handles(node.config)
        else:
            # A broken config may break `handles` too; its edges are checked once it is fixed.
            try:
                handles[node.id] = node_type.handles(node.config)
            except Exception:  # noqa: S112
                continue

    triggers = [node.id for node in graph.nodes if _is_trigger(types.get(node.id))]
    problems += _edge_problems(graph, types, handles)
    compensations = _compensation_targets(graph, types)
    if triggers:
        problems += _unreachable(graph, triggers, compensations)
    else:
        problems.append(Problem(None, None, "the graph needs a trigger"))
    problems += _cycles(graph, types)
    problems += _loops_and_joins(graph, types, valid_config)
    problems += _compensation_problems(graph, types)
    problems += _four_eyes_problems(graph, types)

    for node in graph.nodes:
        node_type = types.get(node.id)
        if node_type is not None and node_type.check is not None and node.id in valid_config:
            problems += node_type.check(node.id, node.config, context)
    return problems


def validate_node_config(
    type_name: str,
    node_id: str,
    config: object,
    context: CheckContext = _DEFAULT_CONTEXT,
) -> list[Problem]:
    """The problems of one node's config on its own (no edges, no other nodes)."""
    node_type = get_node_type(type_name)
    if node_type is None:
        return [Problem(node_id, "type", _unknown_type(type_name))]
    if not isinstance(config, Mapping):
        return [Problem(node_id, "config", f"must be an object, not {_json_type(config)}")]
    problems, config_ok = _check_config(node_type, node_id, config)
    if config_ok and node_type.check is not None:
        problems += node_type.check(node_id, config, context)
    return problems


def config_schema(node_type: NodeType) -> dict[str, Any]:
    """The schema a config must match: the type's, plus retry/timeout/compensation if wanted."""
    schema = node_type.config_schema
    if not node_type.error_handling:
        return schema
    properties = {**ERROR_HANDLING_SCHEMA, **schema.get("properties", {})}
    return {**schema, "properties": properties}


def _check_config(
    node_type: NodeType, node_id: str, config: Mapping[str, Any]
) -> tuple[list[Problem], bool]:
    """Schema, expression and template problems of a config, and whether its shape is valid."""
    problems = _schema_problems(_config_validator(node_type), config, "config", node_id)
    config_ok = not problems
    reported = {problem.field for problem in problems}
    for path in node_type.expressions:
        for field, value in _values_at(config, path):
            if value is None or field in reported:
                continue
            try:
                compile_expression(value)
            except ExpressionError as exc:
                problems.append(Problem(node_id, field, _expression_message(exc)))
    for path in node_type.templates:
        for field, value in _values_at(config, path):
            for leaf_field, text in _strings_in(value, field):
                if leaf_field in reported:
                    continue
                try:
                    compile_template(text)
                except ExpressionError as exc:
                    problems.append(Problem(node_id, leaf_field, _expression_message(exc)))
    return problems, config_ok


def _config_validator(node_type: NodeType) -> Draft202012Validator:
    cached = _config_validators.get(node_type.type)
    if cached is not None and cached[0] is node_type:
        return cached[1]
    # Schemas are checked against the metaschema by the test suite, not here: it would cost
    # ~5 ms per type on the first validation of every process.
    validator = Draft202012Validator(config_schema(node_type))
    _config_validators[node_type.type] = (node_type, validator)
    return validator


def _is_trigger(node_type: NodeType | None) -> bool:
    return node_type is not None and node_type.is_trigger


def _unknown_type(type_name: str) -> str:
    known = [node_type.type for node_type in all_node_types()]
    close = difflib.get_close_matches(type_name, known, n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    return f"unknown node type '{type_name}'{hint}"


def _expression_message(exc: ExpressionError) -> str:
    # The problem names node and field already; str(exc) would repeat them.
    if exc.position is None:
        return exc.message
    return f"{exc.message} (at character {exc.position})"


# --- the graph's structure ----------------------------------------------------------------


def _duplicate_ids(graph: Graph) -> list[Problem]:
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


def _edge_problems(
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
        if _is_trigger(types.get(edge.target)):
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


def _unreachable(graph: Graph, triggers: list[str], exempt: Mapping[str, str]) -> list[Problem]:
    reached = _reach(_links(graph), triggers)
    problems: list[Problem] = []
    reported: set[str] = set()
    for node in graph.nodes:
        if node.id in reached or node.id in exempt or node.id in reported:
            continue
        reported.add(node.id)
        problems.append(Problem(node.id, None, "no trigger leads to this node"))
    return problems


def _cycles(graph: Graph, types: Mapping[str, NodeType]) -> list[Problem]:
    """Cycles that do not return to a loop from inside its body (a loop's "next item")."""
    links = _links(graph)
    successors = dict(links)
    for node_id, node_type in types.items():
        if node_type.type != LOOP:
            continue
        body_starts = [
            edge.target
            for edge in graph.outgoing(node_id, LOOP_BODY)
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
            f"{path} form a cycle outside any loop; only a {LOOP} may repeat steps "
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


def _loops_and_joins(
    graph: Graph, types: Mapping[str, NodeType], valid_config: set[str]
) -> list[Problem]:
    problems: list[Problem] = []
    for node_id, node_type in types.items():
        if node_type.type == LOOP and not graph.outgoing(node_id, LOOP_BODY):
            message = f"the loop has no '{LOOP_BODY}' edge to the steps it repeats for each item"
            problems.append(Problem(node_id, None, message))
        if node_type.type != JOIN:
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


def _compensation_targets(graph: Graph, types: Mapping[str, NodeType]) -> dict[str, str]:
    """Compensation node id → the first node naming it."""
    targets: dict[str, str] = {}
    for node_id, node_type in types.items():
        target = (
            graph.node(node_id).config.get("compensation") if node_type.error_handling else None
        )
        if isinstance(target, str) and target:
            targets.setdefault(target, node_id)
    return targets


def _compensation_problems(graph: Graph, types: Mapping[str, NodeType]) -> list[Problem]:
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
        elif _is_trigger(types.get(target)):
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


def _four_eyes_problems(graph: Graph, types: Mapping[str, NodeType]) -> list[Problem]:
    """`distinct_from` names other approval or review nodes of the graph."""
    problems: list[Problem] = []
    for node_id, node_type in types.items():
        stages = graph.node(node_id).config.get("distinct_from")
        if not node_type.type.startswith("human.") or not isinstance(stages, list):
            continue
        for index, stage in enumerate(stages):
            field = f"config.distinct_from[{index}]"
            if stage == node_id:
                problems.append(Problem(node_id, field, "a step cannot be distinct from itself"))
            elif stage not in graph:
                problems.append(Problem(node_id, field, f"no node has the id '{stage}'"))
            elif stage in types and not types[stage].type.startswith("human."):
                message = f"'{stage}' is a {types[stage].type} node, not an approval or review"
                problems.append(Problem(node_id, field, message))
    return problems


# --- config paths and schema errors -------------------------------------------------------


def _field(prefix: str, step: str | int) -> str:
    if isinstance(step, int):
        return f"{prefix}[{step}]"
    if not _PLAIN_KEY.match(step):
        return f"{prefix}[{json.dumps(step)}]"
    return f"{prefix}.{step}" if prefix else step


def _values_at(config: Mapping[str, Any], path: str) -> Iterator[tuple[str, Any]]:
    """(field, value) for each value a path such as `cases[].when` or `values.*` names."""
    return _walk(config, path.split("."), "config")


def _walk(value: Any, segments: list[str], field: str) -> Iterator[tuple[str, Any]]:
    if not segments:
        yield field, value
        return
    head, rest = segments[0], segments[1:]
    if head == "*":
        if isinstance(value, Mapping):
            for key, item in value.items():
                yield from _walk(item, rest, _field(field, str(key)))
        elif isinstance(value, list):
            for position, item in enumerate(value):
                yield from _walk(item, rest, _field(field, position))
        return
    each = head.endswith("[]")
    key = head.removesuffix("[]")
    if not isinstance(value, Mapping) or key not in value:
        return
    child, child_field = value[key], _field(field, key)
    if not each:
        yield from _walk(child, rest, child_field)
    elif isinstance(child, list):
        for position, item in enumerate(child):
            yield from _walk(item, rest, _field(child_field, position))


def _strings_in(value: Any, field: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield field, value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _strings_in(item, _field(field, str(key)))
    elif isinstance(value, list):
        for position, item in enumerate(value):
            yield from _strings_in(item, _field(field, position))


def _schema_problems(
    validator: Draft202012Validator, instance: object, prefix: str, node: str | None
) -> list[Problem]:
    errors = sorted(validator.iter_errors(instance), key=_error_order)
    return [
        Problem(node, field or None, message)
        for error in errors
        for field, message in _describe(error, prefix)
    ]


def _error_order(error: ValidationError) -> tuple[Any, ...]:
    path = tuple(
        (0, step, "") if isinstance(step, int) else (1, 0, step) for step in error.absolute_path
    )
    return (path, str(error.validator), error.message)


def _describe(error: ValidationError, prefix: str) -> list[tuple[str, str]]:
    """(field, message) pairs that say what is wrong in words a canvas user understands."""
    field = prefix
    for step in error.absolute_path:
        field = _field(field, step)
    kind, expected, instance = _parts(error)
    if kind == "required":
        missing = [key for key in expected if isinstance(instance, Mapping) and key not in instance]
        key = next((key for key in missing if error.message.startswith(repr(key))), None)
        if key is not None:
            return [(_field(field, key), "is required")]
    if kind == "additionalProperties" and isinstance(instance, Mapping):
        schema: Any = error.schema
        allowed = sorted(schema.get("properties", {}))
        patterns = [re.compile(pattern) for pattern in schema.get("patternProperties", {})]
        extra = [
            key
            for key in instance
            if key not in allowed and not any(pattern.search(key) for pattern in patterns)
        ]
        hint = f" (known keys: {', '.join(allowed)})" if allowed else ""
        return [(_field(field, key), f"unknown key '{key}'{hint}") for key in extra]
    if kind in ("anyOf", "oneOf") and error.context:
        return _describe_alternatives(error, field, prefix)
    return [(field, _message(error))]


def _describe_alternatives(
    error: ValidationError, field: str, prefix: str
) -> list[tuple[str, str]]:
    """The errors of the first alternative the value has the right type for, else the types."""
    branches: dict[Any, list[ValidationError]] = {}
    for sub in error.context:
        branches.setdefault(sub.relative_schema_path[0], []).append(sub)
    for _, errors in sorted(branches.items()):
        if not any(sub.validator == "type" and not sub.relative_path for sub in errors):
            return [
                pair for sub in sorted(errors, key=_error_order) for pair in _describe(sub, prefix)
            ]
    alternatives: Any = error.validator_value
    wanted = [
        name
        for branch in alternatives
        for name in _as_list(branch.get("type") if isinstance(branch, Mapping) else None)
    ]
    if wanted:
        names = " or ".join(dict.fromkeys(_JSON_TYPES.get(name, name) for name in wanted))
        return [(field, f"must be {names}, not {_json_type(error.instance)}")]
    closest = best_match(error.context)
    return _describe(closest, prefix) if closest is not None else [(field, _message(error))]


def _as_list(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


def _parts(error: ValidationError) -> tuple[str, Any, Any]:
    """The failed keyword, its value in the schema and the instance, loosely typed."""
    return str(error.validator), error.validator_value, error.instance


def _message(error: ValidationError) -> str:
    kind, expected, instance = _parts(error)
    if kind == "type":
        wanted = [expected] if isinstance(expected, str) else list(expected)
        names = " or ".join(_JSON_TYPES.get(name, name) for name in wanted)
        return f"must be {names}, not {_json_type(instance)}"
    if kind == "enum":
        return "must be one of " + ", ".join(json.dumps(option) for option in expected)
    if kind == "const":
        return f"must be {json.dumps(expected)}"
    if kind == "pattern":
        if expected == NODE_ID_PATTERN:
            return (
                "must start with a letter and hold only letters, digits, '_' and '-' "
                "(64 characters at most)"
            )
        return f"must match the pattern {expected}"
    if kind == "minLength":
        return "must not be empty" if expected == 1 else f"must be at least {expected} characters"
    if kind == "maxLength":
        return f"must be at most {expected} characters (it has {len(instance)})"
    if kind == "minimum":
        return f"must be at least {expected}"
    if kind == "maximum":
        return f"must be at most {expected}"
    if kind == "exclusiveMinimum":
        return f"must be more than {expected}"
    if kind == "exclusiveMaximum":
        return f"must be less than {expected}"
    if kind == "minItems":
        return f"must hold at least {expected} item{'s' if expected != 1 else ''}"
    if kind == "maxItems":
        return f"must hold at most {expected} items (it has {len(instance)})"
    if kind == "uniqueItems":
        return "must not repeat items"
    if kind == "oneOf":
        return "matches more than one of the allowed forms; make it match exactly one"
    return str(error.message)


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, int):
        return "a whole number"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list | tuple):
        return "a list"
    return type(value).__name__


# --- a quick yes/no check of the document shape -------------------------------------------

_Check = Callable[[Any], bool]

_TYPE_TESTS: dict[str, _Check] = {
    "object": lambda value: isinstance(value, dict),
    "array": lambda value: isinstance(value, list),
    "string": lambda value: isinstance(value, str),
    "number": lambda value: isinstance(value, int | float) and not isinstance(value, bool),
    "integer": lambda value: (
        (isinstance(value, int) and not isinstance(value, bool))
        or (isinstance(value, float) and value.is_integer())
    ),
    "boolean": lambda value: isinstance(value, bool),
    "null": lambda value: value is None,
}
_ANNOTATIONS = frozenset({"$schema", "$defs", "title", "description", "default"})


def _compile_check(schema: Mapping[str, Any], root: Mapping[str, Any]) -> _Check:
    """A predicate giving the schema's verdict, for the few keywords GRAPH_SCHEMA uses.

    Any other keyword raises at import, so the schema cannot outgrow what this understands.
    """
    checks = [
        _compile_keyword(keyword, value, schema, root)
        for keyword, value in schema.items()
        if keyword not in _ANNOTATIONS
    ]
    if len(checks) == 1:
        return checks[0]

    def check_all(instance: Any) -> bool:
        for check in checks:  # noqa: SIM110 (all() over a generator costs a third more here)
            if not check(instance):
                return False
        return True

    return check_all


def _compile_keyword(
    keyword: str, value: Any, schema: Mapping[str, Any], root: Mapping[str, Any]
) -> _Check:
    if keyword == "$ref":
        return _compile_check(root["$defs"][value.removeprefix("#/$defs/")], root)
    if keyword == "type":
        tests = [_TYPE_TESTS[name] for name in _as_list(value)]
        return tests[0] if len(tests) == 1 else lambda instance: any(t(instance) for t in tests)
    if keyword in ("required", "properties", "additionalProperties"):
        return _compile_object_keyword(keyword, value, schema, root)
    if keyword == "items":
        item = _compile_check(value, root)
        return lambda instance: not isinstance(instance, list) or all(map(item, instance))
    if keyword == "maxItems":
        return lambda instance: not isinstance(instance, list) or len(instance) <= value
    if keyword == "minLength":
        return lambda instance: not isinstance(instance, str) or len(instance) >= value
    if keyword == "maxLength":
        return lambda instance: not isinstance(instance, str) or len(instance) <= value
    if keyword == "pattern":
        pattern = re.compile(value)
        return lambda instance: not isinstance(instance, str) or bool(pattern.search(instance))
    raise ValueError(f"the quick shape check does not know the keyword {keyword!r}")


def _compile_object_keyword(
    keyword: str, value: Any, schema: Mapping[str, Any], root: Mapping[str, Any]
) -> _Check:
    if keyword == "required":
        required = tuple(value)
        return lambda instance: (
            not isinstance(instance, dict) or all(key in instance for key in required)
        )
    if keyword == "additionalProperties" and value is False:
        allowed = set(schema.get("properties", {}))
        return lambda instance: not isinstance(instance, dict) or instance.keys() <= allowed
    if keyword == "properties":
        subs = {key: _compile_check(sub, root) for key, sub in value.items()}

        def check_properties(instance: Any) -> bool:
            if isinstance(instance, dict):
                for key, item in instance.items():
                    sub = subs.get(key)
                    if sub is not None and not sub(item):
                        return False
            return True

        return check_properties
    raise ValueError(f"the quick shape check does not know {keyword!r}: {value!r}")


# jsonschema spends ~30 ms on a 200-node document; this compiled check takes a few ms.
# jsonschema stays the authority: it runs whenever the quick check fails, to word the problems.
_fits_graph_schema = _compile_check(GRAPH_SCHEMA, GRAPH_SCHEMA)
