"""diff_graphs lists added, removed and changed nodes and edges by id, in a stable order."""

from typing import Any

from engine.graph.diff import diff_graphs
from tests.engine.graph.builders import edge, expense, node

EMPTY: dict[str, list[Any]] = {"added": [], "removed": [], "changed": []}


def test_identical_graphs_have_no_difference() -> None:
    """A graph compared with a copy of itself differs in nothing."""
    assert diff_graphs(expense(), expense()) == {"nodes": EMPTY, "edges": EMPTY}


def test_added_and_removed_ids_are_sorted() -> None:
    """Added and removed node and edge ids come back sorted, whatever the document order."""
    old, new = expense(), expense()
    new["nodes"] += [node("zeta", "flow.end"), node("alpha", "flow.end")]
    new["edges"] += [edge("vp", "zeta", "error", id="z1"), edge("vp", "alpha", id="a1")]
    del new["nodes"][3]
    del new["edges"][3], new["edges"][2]
    assert diff_graphs(old, new) == {
        "nodes": {"added": ["alpha", "zeta"], "removed": ["done"], "changed": []},
        "edges": {
            "added": ["a1", "z1"],
            "removed": ["check>false>done", "vp>>done"],
            "changed": [],
        },
    }
    assert diff_graphs(new, old)["nodes"]["removed"] == ["alpha", "zeta"]


def test_changed_nodes_list_config_keys_then_type_label_position() -> None:
    """Changed config keys (added, removed or edited, sorted) come first, then node-level keys."""
    old, new = expense(), expense()
    vp = new["nodes"][2]
    vp["config"]["timeout"] = 60
    del vp["config"]["retry"]
    vp["config"]["compensation"] = "undo"
    vp["label"] = "Ask the VP"
    vp["position"] = {"x": 10, "y": 20}
    new["nodes"][1]["type"] = "logic.switch"
    assert diff_graphs(old, new)["nodes"]["changed"] == [
        {"id": "check", "keys": ["type"]},
        {"id": "vp", "keys": ["compensation", "retry", "timeout", "label", "position"]},
    ]


def test_nested_config_changes_name_the_top_level_key() -> None:
    """A change deep inside a config value is reported by its top-level key."""
    old, new = expense(), expense()
    new["nodes"][2]["config"]["args"]["to"] = "{{ input.manager }}"
    assert diff_graphs(old, new)["nodes"]["changed"] == [{"id": "vp", "keys": ["args"]}]


def test_defaults_equal_their_absence() -> None:
    """A missing config is {}, a missing label is "", and positions only count when they differ."""
    old, new = expense(), expense()
    del old["nodes"][0]["config"]
    new["nodes"][0]["label"] = ""
    old["nodes"][1]["position"] = {"x": 1, "y": 2.0}
    new["nodes"][1]["position"] = {"x": 1.0, "y": 2}
    assert diff_graphs(old, new)["nodes"]["changed"] == []
    new["nodes"][0]["label"] = "Start"
    del new["nodes"][1]["position"]
    assert diff_graphs(old, new)["nodes"]["changed"] == [
        {"id": "check", "keys": ["position"]},
        {"id": "start", "keys": ["label"]},
    ]


def test_json_equality_tells_true_from_one() -> None:
    """1 and 1.0 are the same JSON number; true and 1 are not the same value."""
    old, new = expense(), expense()
    old["nodes"][2]["config"]["timeout"] = 30
    new["nodes"][2]["config"]["timeout"] = 30.0
    assert diff_graphs(old, new)["nodes"]["changed"] == []
    old["nodes"][2]["config"]["args"]["flag"] = True
    new["nodes"][2]["config"]["args"]["flag"] = 1
    assert diff_graphs(old, new)["nodes"]["changed"] == [{"id": "vp", "keys": ["args"]}]


def test_changed_edges_list_source_target_handle() -> None:
    """An edge keeping its id but moving lists what moved; null and "" handles are equal."""
    old, new = expense(), expense()
    new["edges"][0]["handle"] = ""
    new["edges"][1]["handle"] = "false"
    new["edges"][2].update(handle="true", target="vp")
    new["edges"][3]["source"] = "check"
    assert diff_graphs(old, new)["edges"] == {
        "added": [],
        "removed": [],
        "changed": [
            {"id": "check>false>done", "keys": ["target", "handle"]},
            {"id": "check>true>vp", "keys": ["handle"]},
            {"id": "vp>>done", "keys": ["source"]},
        ],
    }
