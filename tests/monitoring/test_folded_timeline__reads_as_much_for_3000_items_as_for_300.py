"""The run page, its folded timeline and a page of a loop's items read the same journal rows
(and run the same SQL statements) for a loop of 3,000 items as for one of 300: each fold is
summed up in PostgreSQL, and only the rows outside folds, a few of each fold's and the page's
are laid out."""

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from monitoring.run_timeline import load_folded_timeline, load_items
from tests.monitoring.fanned_out_runs import loop_run, publish_loop

pytestmark = pytest.mark.django_db


def test_rows_laid_out_and_statements_do_not_grow_with_the_items(make_user: Any) -> None:
    client = Client()
    client.force_login(make_user("vera", "viewers"))
    workflow = publish_loop()
    work: dict[int, tuple[int, ...]] = {}
    for count in (300, 3000):
        run = loop_run(workflow, count, failed=frozenset({7, count - 1}))
        timeline = load_folded_timeline(run)
        page = load_items(run, "loop:work", offset=200, limit=50, status=None)
        assert page is not None and len(page["rows"]) == 50
        statements = []
        for path in (
            f"/runs/{run.pk}/",
            f"/api/runs/{run.pk}/timeline",
            f"/api/runs/{run.pk}/timeline/items?group=loop:work&offset=200",
        ):
            client.get(path)  # what the first request of a session looks up once
            with CaptureQueriesContext(connection) as queries:
                assert client.get(path).status_code == 200
            statements.append(len(queries))
        # start, each and done, and a few items and waves the verdict and the map could name.
        work[count] = (len(timeline.timeline.rows), *statements)
        assert len(timeline.timeline.rows) < 20
    assert work[300] == work[3000]
