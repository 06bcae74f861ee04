"""A run that fanned out (a loop of hundreds of items) opens with the SQL statements of a
small one: the run page, its timeline (and a page of a folded loop's items) and the run the
canvas overlay reads never ask per step."""

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from engine.models import Run, RunStatus, StepRecord
from engine.runtime.runs import create_run
from tests.monitoring.fanned_out_runs import publish_loop

pytestmark = pytest.mark.django_db


@pytest.fixture
def loop_workflow() -> str:
    return publish_loop()


def loop_run(workflow: str, items: int) -> Run:
    """A completed run of the loop as a worker journals it: the loop, then each item's step."""
    run = create_run(workflow, {"items": list(range(items))})
    began = timezone.now() - timedelta(minutes=5)
    names = ["start", "each", *(f"work[{index}]" for index in range(items)), "done"]
    StepRecord.objects.bulk_create(
        StepRecord(
            run=run,
            seq=seq,
            branch=0 if not name.startswith("work[") else seq,
            kind="step",
            name=name,
            status="completed",
            output={"value": seq},
            started_at=began + timedelta(milliseconds=seq),
            finished_at=began + timedelta(milliseconds=seq + 3),
        )
        for seq, name in enumerate(names)
    )
    Run.objects.filter(pk=run.pk).update(
        status=RunStatus.COMPLETED, started_at=began, finished_at=timezone.now()
    )
    return run


def statements(client: Client, path: str) -> tuple[int, Any]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200, path
    return len(queries), response


@pytest.mark.parametrize(
    "path",
    ["/runs/{id}/", "/api/runs/{id}/timeline", "/api/runs/{id}", "/api/runs/{id}/step-states"],
    ids=str,
)
def test_a_loop_of_600_items_costs_what_a_loop_of_3_does(
    make_user: Any, loop_workflow: str, path: str
) -> None:
    client = Client()
    client.force_login(make_user("vera", "viewers"))
    counts = {}
    for items in (3, 300, 600):
        run = loop_run(loop_workflow, items)
        counts[items], response = statements(client, path.format(id=run.pk))
        if path == "/api/runs/{id}":  # the first page of the journal, and where the rest is
            assert "work[0]" in response.content.decode()
            assert (response.json()["steps_next_cursor"] is not None) == (items > 97)
        elif path == "/api/runs/{id}/timeline":  # the items fold into one row above 20
            folded = [row for row in response.json()["rows"] if row.get("group") == "loop:work"]
            assert [row["items"] for row in folded] == ([] if items < 20 else [items])
        else:
            assert f"work[{items - 1}]" in response.content.decode()  # the newest item is shown
    assert counts[600] == counts[300]
    # The run page lists the newest 100 journal rows and counts the rest: one statement more.
    assert counts[300] - counts[3] <= (1 if path == "/runs/{id}/" else 0)


def test_a_page_of_a_folded_loops_items_costs_the_same_in_any_size_of_loop(
    make_user: Any, loop_workflow: str
) -> None:
    client = Client()
    client.force_login(make_user("vera", "viewers"))
    counts = {}
    for items in (300, 600):
        run = loop_run(loop_workflow, items)
        path = f"/api/runs/{run.pk}/timeline/items?group=loop:work&offset=250&limit=50"
        counts[items], response = statements(client, path)
        assert [row["name"] for row in response.json()["rows"]][:2] == ["work[250]", "work[251]"]
    assert counts[600] == counts[300]
