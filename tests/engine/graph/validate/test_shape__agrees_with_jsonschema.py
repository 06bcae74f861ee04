"""The quick shape check compiled from GRAPH_SCHEMA says yes exactly when jsonschema does."""

import copy
from typing import Any

from bench.graph_validation import realistic_graph
from engine.graph.validate.shape import GRAPH_VALIDATOR, fits_graph_schema
from tests.engine.graph.builders import expense


def broken_documents() -> list[Any]:
    base = realistic_graph(13)
    variants: list[Any] = [None, [], "graph", {"nodes": []}, {"edges": [], "nodes": [], "x": 1}]
    changes: list[tuple[str, int, str, Any]] = [
        ("nodes", 0, "id", "1abc"),
        ("nodes", 0, "id", "a" * 65),
        ("nodes", 1, "type", ""),
        ("nodes", 1, "type", None),
        ("nodes", 2, "label", "x" * 201),
        ("nodes", 2, "config", None),
        ("nodes", 3, "position", {"x": 1}),
        ("nodes", 3, "position", {"x": 1, "y": True}),
        ("nodes", 3, "position", {"x": 1, "y": 2, "z": 3}),
        ("nodes", 4, "extra", 1),
        ("edges", 0, "id", ""),
        ("edges", 0, "handle", 3),
        ("edges", 1, "source", ""),
        ("edges", 1, "target", 5),
        ("edges", 2, "extra", 1),
    ]
    for collection, index, key, value in changes:
        variant = copy.deepcopy(base)
        variant[collection][index][key] = value
        variants.append(variant)
    for collection, key in (("nodes", "id"), ("nodes", "type"), ("edges", "source")):
        variant = copy.deepcopy(base)
        del variant[collection][0][key]
        variants.append(variant)
    return variants


def test_the_quick_shape_check_agrees_with_jsonschema() -> None:
    """The compiled shape check says yes exactly when jsonschema finds no error."""
    valid = [realistic_graph(13), expense(), {"nodes": [], "edges": [], "meta": {}}]
    for document in valid + broken_documents():
        expected = GRAPH_VALIDATOR.is_valid(document)
        assert fits_graph_schema(document) is expected, document
