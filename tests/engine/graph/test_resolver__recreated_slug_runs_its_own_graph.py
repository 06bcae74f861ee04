"""A worker keeps compiled programs for as long as it lives. Version numbers continue after a
deleted workflow, so v1 always means one graph; and when the database itself is reset under a
living worker (a restore, a test flush), the worker must not serve a program from before."""

from typing import Any

import pytest

from engine.graph.resolver import load_program
from engine.models import GraphVersion
from tests.engine.graph.graphs import graph

pytestmark = pytest.mark.django_db


@pytest.fixture
def call(designer_api: Any) -> Any:
    return designer_api


def publish(call: Any, slug: str, end_id: str) -> None:
    revision = call("post", "/api/workflows", {"slug": slug, "title": "Again"}).json()["revision"]
    document = graph([("start", "trigger.manual"), (end_id, "flow.end")], [f"start>{end_id}"])
    saved = call("put", f"/api/workflows/{slug}/draft", {"graph": document, "revision": revision})
    assert saved.status_code == 200, saved.json()
    assert call("post", f"/api/workflows/{slug}/publish").status_code == 201


def nodes_of(slug: str, version: str | None) -> set[str]:
    program = load_program(slug, version)
    assert program is not None
    return set(program.nodes)


def test_a_recreated_workflow_continues_the_numbers_and_pinned_runs_keep_theirs(call: Any) -> None:
    publish(call, "again", "first_end")
    assert "first_end" in nodes_of("again", "v1")
    assert call("delete", "/api/workflows/again").status_code == 204
    assert load_program("again", None) is None  # a deleted workflow starts nothing new

    publish(call, "again", "second_end")
    assert "first_end" in nodes_of("again", "v1")  # a run pinned to v1 still finds its graph
    assert "second_end" in nodes_of("again", "v2")
    assert "second_end" in nodes_of("again", None)


def test_a_database_reset_under_a_living_worker_serves_the_new_graph(call: Any) -> None:
    publish(call, "reset", "before_end")
    assert "before_end" in nodes_of("reset", "v1")

    GraphVersion.objects.filter(workflow="reset").delete()  # what a restore or flush does
    call("delete", "/api/workflows/reset")
    publish(call, "reset", "after_end")
    assert nodes_of("reset", "v1") == {"start", "after_end"}
    assert nodes_of("reset", None) == {"start", "after_end"}


def test_an_id_given_again_after_a_sequence_reset_serves_its_own_graph(call: Any) -> None:
    """A flush that resets the id sequences (the test suite's, a restore) hands an old row's
    id to a new row, of another workflow or of the same one: the program follows the row."""
    publish(call, "first", "first_end")
    old = GraphVersion.objects.get(workflow="first")
    assert "first_end" in nodes_of("first", "v1")
    old_id = old.pk
    GraphVersion.objects.filter(pk=old_id).delete()

    document = graph([("start", "trigger.manual"), ("other_end", "flow.end")], ["start>other_end"])
    GraphVersion.objects.create(
        pk=old_id,
        workflow="other",
        number=1,
        title="Other",
        graph=document,
        published_at=old.published_at,
    )
    assert nodes_of("other", "v1") == {"start", "other_end"}
