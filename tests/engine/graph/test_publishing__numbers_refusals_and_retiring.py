"""Publishing is the engine's action: versions number on after a retired workflow's, a graph with
problems is refused whoever sends it (nothing is written), names outside the graph are checked
against what the engine knows unless the caller says otherwise, schedules and event triggers
follow the newest version and go when the workflow is retired, and two publishes at once get
consecutive numbers."""

import threading
from typing import Any

import pytest
from django.db import connection

from engine.graph.nodes import CheckContext
from engine.graph.publishing import (
    GraphRefused,
    latest_version,
    latest_versions,
    live_versions,
    publish_graph,
    retire_graph,
)
from engine.models import EventTrigger, GraphVersion, Schedule
from tests.engine.graph.graphs import graph

pytestmark = pytest.mark.django_db


def started_by(trigger: tuple[Any, ...]) -> dict[str, Any]:
    return graph([trigger, ("done", "flow.end", {"output": {"ok": True}})], ["start>done"])


MANUAL = started_by(("start", "trigger.manual"))


def calling(child: str) -> dict[str, Any]:
    return graph(
        [
            ("start", "trigger.manual"),
            ("child", "flow.subworkflow", {"workflow": child}),
            ("done", "flow.end", {"output": {"ok": True}}),
        ],
        ["start>child", "child>done"],
    )


def test_versions_number_on_after_the_workflow_is_retired() -> None:
    first = publish_graph("numbered", "Numbered", MANUAL, note="first")
    second = publish_graph("numbered", "Numbered", MANUAL, compensate_on_cancel=False)
    assert (first.number, second.number) == (1, 2)
    assert (first.note, second.compensate_on_cancel) == ("first", False)
    assert latest_version("numbered") == second
    assert latest_versions()["numbered"] == second

    assert retire_graph("numbered") == 2
    assert latest_version("numbered") is None and not live_versions("numbered").exists()
    assert "numbered" not in latest_versions()

    # v1 always means one graph: a workflow created again under the slug starts at v3.
    assert publish_graph("numbered", "Again", MANUAL).number == 3
    assert GraphVersion.objects.filter(workflow="numbered", retired=True).count() == 2


def test_a_graph_with_problems_is_refused_and_nothing_is_written() -> None:
    bad = started_by(("start", "trigger.schedule", {"cron": "61 9 * * *"}))
    with pytest.raises(GraphRefused) as refused:
        publish_graph("bad-cron", "Bad", bad)
    assert [(p.node, p.field) for p in refused.value.problems] == [("start", "config.cron")]
    assert not GraphVersion.objects.exists()
    assert not Schedule.objects.exists()


def test_names_outside_the_graph_are_checked_against_what_the_engine_knows() -> None:
    with pytest.raises(GraphRefused) as refused:
        publish_graph("parent", "Parent", calling("child"))
    assert [(p.node, p.field) for p in refused.value.problems] == [("child", "config.workflow")]

    publish_graph("child", "Child", MANUAL)
    assert publish_graph("parent", "Parent", calling("child")).number == 1
    # A caller that knows more (the designer knows drafts) says so with its own context.
    assert publish_graph("other", "Other", calling("drafted"), context=CheckContext()).number == 1


def test_schedules_and_event_triggers_follow_the_newest_version_and_go_when_retired() -> None:
    publish_graph(
        "ticking", "Ticking", started_by(("start", "trigger.schedule", {"cron": "0 9 * * *"}))
    )
    assert list(Schedule.objects.values_list("source_key", flat=True)) == ["ticking:start"]

    publish_graph(
        "ticking",
        "Ticking",
        started_by(("start", "trigger.event", {"event_types": ["Order.created"]})),
    )
    assert not Schedule.objects.exists()
    assert list(EventTrigger.objects.values_list("workflow", "event_type")) == [
        ("ticking", "Order.created")
    ]

    retire_graph("ticking")
    assert not EventTrigger.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_publishes_at_once_get_consecutive_numbers() -> None:
    start_line = threading.Barrier(2)
    numbers: list[int] = []

    def publish() -> None:
        start_line.wait()
        try:
            numbers.append(publish_graph("raced", "Raced", MANUAL).number)
        finally:
            connection.close()

    threads = [threading.Thread(target=publish) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert sorted(numbers) == [1, 2]
