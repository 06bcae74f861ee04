"""The Run and journal admins show input fields marked sensitive as "•••• (sensitive)" to
staff whose roles lack read_sensitive (a viewer with the admin's view permissions), in the
run, its journal inline and a journal row's own page; operators and superusers read them."""

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from engine.graph.publishing import publish_graph
from engine.models import Run, StepRecord
from engine.runtime.runs import start_run
from tests.engine.graph.graphs import graph
from tests.engine.sensitive_flows import INPUT_SCHEMA, SAMPLE_INPUT

pytestmark = pytest.mark.django_db

INPUT = SAMPLE_INPUT
SHOWN = "•••• (sensitive)"


def _staff(make_user, name: str, *roles: str):
    user = make_user(name, *roles, is_staff=True)
    for codename in ("view_run", "view_steprecord"):
        user.user_permissions.add(Permission.objects.get(codename=codename))
    return user


def _journaled_run():
    run = start_run("test-sensitive", INPUT)
    step = StepRecord.objects.create(
        run=run,
        seq=0,
        kind="step",
        name="mail-ada@example.com",
        status="completed",
        output={"greeting": "Hello ada@example.com", "card": "4111 1111 1111", "count": 3},
        detail={"input": {"to": "ada@example.com"}},
        logs=[{"at": "", "level": "info", "message": "mailing ada@example.com"}],
        started_at=timezone.now(),
    )
    return run, step


def test_a_viewer_reads_masked_values_in_the_admin(client: Client, make_user) -> None:
    run, step = _journaled_run()
    client.force_login(_staff(make_user, "vic", "viewers"))
    for url in (
        f"/admin/engine/run/{run.pk}/change/",
        f"/admin/engine/steprecord/{step.pk}/change/",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        page = response.content.decode()
        for clear in ("ada@example.com", "4111 1111 1111", "4321"):
            assert clear not in page, f"{clear} in {url}"
        assert SHOWN in page, url
    run_page = client.get(f"/admin/engine/run/{run.pk}/change/").content.decode()
    assert "&quot;name&quot;: &quot;Ada&quot;" in run_page  # the rest of the input stays
    assert "Hello •••• (sensitive)" in run_page  # the journal inline's output


@pytest.mark.parametrize("who", ["operator", "superuser"])
def test_operators_and_superusers_read_clear_values(client: Client, make_user, who: str) -> None:
    run, step = _journaled_run()
    if who == "superuser":
        client.force_login(make_user("root", is_staff=True, is_superuser=True))
    else:
        client.force_login(_staff(make_user, "olga", "operators"))
    page = client.get(f"/admin/engine/run/{run.pk}/change/").content.decode()
    assert "ada@example.com" in page and "4111 1111 1111" in page and SHOWN not in page
    journal = client.get(f"/admin/engine/steprecord/{step.pk}/change/").content.decode()
    assert "mailing ada@example.com" in journal


def _graph_run_with_a_journal(slug: str) -> None:
    """A run of a graph workflow whose trigger marks input fields sensitive: unlike a code
    workflow's, its schema is read from the database (the version's row)."""
    run = Run.objects.create(
        workflow=slug, version="v1", input=INPUT, status="completed", created_at=timezone.now()
    )
    StepRecord.objects.create(
        run=run,
        seq=0,
        kind="step",
        name="mail-ada@example.com",
        status="completed",
        started_at=timezone.now(),
    )


def test_the_journal_list_masks_names_per_reader_in_the_same_queries_for_more_runs(
    client: Client, make_user
) -> None:
    """Each listed run's version schema is resolved once per page, not per row: for a graph
    workflow every resolution reads a table, so a schema per row would add a query per run."""
    document = graph(
        [("start", "trigger.manual", {"input_schema": INPUT_SCHEMA}), ("done", "flow.end")],
        ["start>done"],
    )
    publish_graph("sensitive-graph", "Sensitive graph", document)
    _graph_run_with_a_journal("sensitive-graph")
    client.force_login(_staff(make_user, "vic", "viewers"))
    client.get("/admin/engine/steprecord/")  # compiles the version's program once
    with CaptureQueriesContext(connection) as one_run:
        page = client.get("/admin/engine/steprecord/").content.decode()
    assert "mail-ada@example.com" not in page
    assert f"mail-{SHOWN}" in page
    for _ in range(3):
        _graph_run_with_a_journal("sensitive-graph")
    with CaptureQueriesContext(connection) as four_runs:
        page = client.get("/admin/engine/steprecord/").content.decode()
    assert page.count(f"mail-{SHOWN}") == 4
    assert len(four_runs) == len(one_run)

    operator = Client()
    operator.force_login(_staff(make_user, "olga", "operators"))
    assert "mail-ada@example.com" in operator.get("/admin/engine/steprecord/").content.decode()
