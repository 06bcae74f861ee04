"""docs/graph-format.* cannot drift: the schema file is GRAPH_SCHEMA, the table is the registry."""

import json
import re
from pathlib import Path

from engine.graph.format import GRAPH_SCHEMA
from engine.graph.nodes.base import ERROR, NORMAL
from engine.graph.nodes.library import all_node_types

DOCS = Path(__file__).resolve().parents[3] / "docs"
ROW = re.compile(r"^\| `(?P<type>[a-z]+\.[a-z_]+)` \|(?P<cells>.*)\|$", re.MULTILINE)


def test_the_docs_schema_file_is_graph_schema() -> None:
    """docs/graph-format.schema.json is GRAPH_SCHEMA as written by json.dumps(indent=2)."""
    text = (DOCS / "graph-format.schema.json").read_text(encoding="utf-8")
    assert text == json.dumps(GRAPH_SCHEMA, indent=2) + "\n"


def test_the_node_table_lists_every_type_with_its_handles_and_fields() -> None:
    """Each registered type has a row with its title, handles, CEL fields and template fields."""
    rows = {
        found["type"]: [cell.strip() for cell in found["cells"].split("|")]
        for found in ROW.finditer((DOCS / "graph-format.md").read_text(encoding="utf-8"))
    }
    types = all_node_types()
    assert sorted(rows) == sorted(node_type.type for node_type in types)
    for node_type in types:
        title, handles, expressions, templates = rows[node_type.type]
        assert title == node_type.title
        if node_type.type == "logic.switch":
            expected = "one per case `name`, `default`"
        else:
            names = [
                "(normal)" if handle == NORMAL else f"`{handle}`"
                for handle in node_type.handles({})
                if handle != ERROR
            ]
            expected = ", ".join(names) or "none"
        assert handles == expected, node_type.type
        assert expressions == ", ".join(f"`{path}`" for path in node_type.expressions)
        assert templates == ", ".join(f"`{path}`" for path in node_type.templates)
