"""The part of the scope a node's step reads: what its step is given, and journaled with.

A node's step takes the scope as its argument, and the steps of a parallel wave are journaled
with their arguments (one row per step). The whole scope holds the run's input and every
upstream output; inside a loop that is the loop's items twice (`input.items`, and the loop
node's output), so each of a 10,000-item loop's steps carried 10,000 items, and the journal,
each worker's read of its step and each advance grew with the square of the loop. A node reads
the scope only through its expression and template fields and the names its type declares
(`NodeType.scope_reads`), so its step is given those names, and of `nodes` only the outputs
it names: the same values it would have found in the whole scope.
"""

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from engine.core.expressions import ExpressionError, compile_expression
from engine.core.templates import compile_template
from engine.graph.nodes.base import NodeType
from engine.graph.validate.configs import values_at

# `nodes` as a name, then the node it selects: `.id` or `["id"]`. An occurrence without
# either (`nodes[key]`, `nodes` alone) may read any node's output.
_NODES = re.compile(
    r"\bnodes\b(?:\s*\.\s*([A-Za-z_]\w*)|\s*\[\s*(?:'([^'\\]*)'|\"([^\"\\]*)\")\s*\])?"
)


@dataclass(frozen=True)
class ScopeReads:
    """The scope names a node reads (None: any), and of `nodes` the ids (None: every one)."""

    names: frozenset[str] | None
    nodes: frozenset[str] | None = None

    def pick(self, scope: Mapping[str, Any]) -> dict[str, Any]:
        """The part of `scope` the node reads."""
        if self.names is None:
            return dict(scope)
        picked = {name: scope[name] for name in self.names if name in scope}
        outputs = picked.get("nodes")
        if self.nodes is not None and isinstance(outputs, Mapping):
            picked["nodes"] = {key: value for key, value in outputs.items() if key in self.nodes}
        return picked


WHOLE_SCOPE = ScopeReads(names=None)


def scope_reads(node_type: NodeType, config: Mapping[str, Any]) -> ScopeReads:
    """What a node of this type and config reads; the whole scope when a field cannot tell."""
    try:
        sources = list(_expression_sources(node_type, config))
    except ExpressionError:
        return WHOLE_SCOPE  # validation refuses it; at run time it fails as it always did
    names = set(node_type.scope_reads)
    nodes: set[str] | None = set()
    for source, variables in sources:
        names |= variables
        for found in _NODES.finditer(source):
            selected = found.group(1) or found.group(2) or found.group(3)
            if selected is None:
                nodes = None
            elif nodes is not None:
                nodes.add(selected)
    return ScopeReads(frozenset(names), None if nodes is None else frozenset(nodes))


def _expression_sources(
    node_type: NodeType, config: Mapping[str, Any]
) -> Iterator[tuple[str, frozenset[str]]]:
    """(source, names it uses) of each CEL field, and of each `{{ expr }}` anywhere in the
    config: any string may be rendered as a template (a rate limit's key is one too)."""
    for path in node_type.expressions:
        for _, value in values_at(config, path):
            if isinstance(value, str):
                expression = compile_expression(value)
                yield expression.source, expression.variables
    for text in _strings_in(config):
        if "{{" in text:
            for expression in compile_template(text).expressions:
                yield expression.source, expression.variables


def _strings_in(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings_in(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings_in(item)
