"""GET /api/runs/{id}, its journal pages, the timeline, step and node endpoints and the
control answers mask input fields marked sensitive for callers whose roles lack
read_sensitive (viewers, designers, approvers) and show them to operators; the database keeps
the clear values. The run's journal comes a page at a time, with the cursor conventions of
GET /api/runs, and bad paging values answer 422 naming the field."""

from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import ApiToken
from engine.models import Run, StepRecord
from tests.engine.runtime.test_engine__runs_through_real_workers import wait_for_status
from tests.engine.sensitive_flows import SAMPLE_INPUT

pytestmark = pytest.mark.django_db

INPUT = {**SAMPLE_INPUT, "steps": 5}
CLEAR_TEXTS = ("ada@example.com", "4111 1111 1111")


@pytest.fixture
def tokens(make_user) -> dict[str, dict[str, str]]:
    headers = {}
    for name, role in [
        ("olga", "operators"),
        ("vera", "viewers"),
        ("dan", "designers"),
        ("abe", "approvers"),
    ]:
        _, raw = ApiToken.issue(make_user(name, role), "ci")
        headers[role] = {"Authorization": f"Bearer {raw}"}
    return headers


def _finished_run(client: Client, tokens: dict[str, dict[str, str]]) -> int:
    started = client.post(
        "/api/workflows/test-sensitive/runs",
        {"input": INPUT},
        content_type="application/json",
        headers=tokens["operators"],
    )
    assert started.status_code == 201
    run_id: int = started.json()["id"]
    wait_for_status(Run.objects.get(pk=run_id), "completed")
    return run_id


def _no_clear_text(response: Any) -> None:
    text = response.content.decode()
    for clear in CLEAR_TEXTS:
        assert clear not in text, f"{clear!r} shown in {response.request['PATH_INFO']}"


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("celery_worker")
def test_a_run_read_by_each_role_and_page_by_page(client: Client, tokens) -> None:
    """One run on a real worker, read every way (a run per check would cost seconds each)."""
    finished_run = _finished_run(client, tokens)
    _readers_without_read_sensitive_get_masked_values(client, tokens, finished_run)
    _operators_read_clear_values(client, tokens, finished_run)
    _timeline_step_and_node_endpoints_mask_for_viewers(client, tokens, finished_run)
    _the_journal_comes_a_page_at_a_time(client, tokens, finished_run)


def _readers_without_read_sensitive_get_masked_values(
    client: Client, tokens: dict[str, dict[str, str]], finished_run: int
) -> None:
    for role in ("viewers", "designers", "approvers"):
        response = client.get(f"/api/runs/{finished_run}", headers=tokens[role])
        assert response.status_code == 200
        _no_clear_text(response)
        run = response.json()
        assert run["input"] == {
            "customer": {"name": "Ada", "email": "***"},
            "cards": [{"number": "***", "label": "work"}],
            "pin": "***",
            "steps": 5,
        }
        assert run["output"] == {
            "sent_to": "***",
            "name": "Ada",
            "pin": "***",
            "greeting": "Hello ***",
            "card": "***",
            "count": 3,
        }
        assert run["progress"]["message"] == "writing to ***"
        mail = next(step for step in run["steps"] if step["name"].startswith("mail-"))
        assert mail["name"] == "mail-***"
        assert mail["output"]["greeting"] == "Hello ***"
    # The database keeps what the run was given; only the reading is masked.
    stored = Run.objects.get(pk=finished_run)
    assert stored.input == INPUT
    assert stored.output["sent_to"] == "ada@example.com"


def _operators_read_clear_values(
    client: Client, tokens: dict[str, dict[str, str]], finished_run: int
) -> None:
    run = client.get(f"/api/runs/{finished_run}", headers=tokens["operators"]).json()
    assert run["input"] == INPUT
    assert run["output"]["greeting"] == "Hello ada@example.com"
    assert "mail-ada@example.com" in [step["name"] for step in run["steps"]]


def _timeline_step_and_node_endpoints_mask_for_viewers(
    client: Client, tokens: dict[str, dict[str, str]], finished_run: int
) -> None:
    viewer, operator = tokens["viewers"], tokens["operators"]
    timeline = client.get(f"/api/runs/{finished_run}/timeline", headers=viewer)
    assert timeline.status_code == 200
    _no_clear_text(timeline)
    assert "mail-***" in timeline.content.decode()
    mail = StepRecord.objects.get(run_id=finished_run, name="mail-ada@example.com")
    step = client.get(f"/api/runs/{finished_run}/steps/{mail.pk}", headers=viewer)
    _no_clear_text(step)
    assert step.json()["masked"] is True
    assert step.json()["output"]["card"] == "***"
    clear = client.get(f"/api/runs/{finished_run}/steps/{mail.pk}", headers=operator).json()
    assert clear["masked"] is False
    assert clear["output"]["card"] == "4111 1111 1111"
    node = client.get(f"/api/runs/{finished_run}/nodes/tick-1", headers=viewer)
    assert node.status_code == 200
    assert node.json()["name"] == "tick-1"


def _the_journal_comes_a_page_at_a_time(
    client: Client, tokens: dict[str, dict[str, str]], finished_run: int
) -> None:
    viewer = tokens["viewers"]
    every = list(
        StepRecord.objects.filter(run_id=finished_run).order_by("id").values_list("id", flat=True)
    )
    assert len(every) == 6  # the mail step and five ticks
    first = client.get(f"/api/runs/{finished_run}?steps_limit=3", headers=viewer)
    body = first.json()
    assert len(body["steps"]) == 3
    cursor = first.headers["X-Next-Cursor"]
    assert body["steps_next_cursor"] == cursor
    assert first.headers["Link"] == (
        f'</api/runs/{finished_run}/journal?limit=3&cursor={cursor}>; rel="next"'
    )
    seen = [step["seq"] for step in body["steps"]]
    names = [step["name"] for step in body["steps"]]
    url = first.headers["Link"].split(">")[0][1:]
    pages = 1
    while url:
        page = client.get(url, headers=viewer)
        assert page.status_code == 200
        _no_clear_text(page)
        assert 1 <= len(page.json()) <= 3
        seen += [step["seq"] for step in page.json()]
        names += [step["name"] for step in page.json()]
        pages += 1
        url = page.headers["Link"].split(">")[0][1:] if "Link" in page.headers else ""
        assert ("X-Next-Cursor" in page.headers) == bool(url)
    assert pages == -(-len(every) // 3)
    expected = StepRecord.objects.filter(run_id=finished_run).order_by("id")
    assert seen == [record.seq for record in expected]
    assert "mail-***" in names
    # One page is enough for a short journal: no cursor then.
    whole = client.get(f"/api/runs/{finished_run}", headers=viewer)
    assert len(whole.json()["steps"]) == len(every)
    assert whole.json()["steps_next_cursor"] is None
    assert "X-Next-Cursor" not in whole.headers and "Link" not in whole.headers


BAD_PAGING = [
    ("{run}?steps_limit=0", "steps_limit"),
    ("{run}?steps_limit=501", "steps_limit"),
    ("{run}/journal?limit=0", "limit"),
    ("{run}/journal?cursor=not-a-cursor", "cursor"),
    ("{run}/journal?cursor=WyJ4Il0", "cursor"),  # ["x"]: not a row id
]


def test_bad_paging_is_refused_naming_the_field(client: Client, tokens) -> None:
    run = Run.objects.create(workflow="test-sensitive", version="code", created_at=timezone.now())
    for path, field in BAD_PAGING:
        response = client.get("/api/runs/" + path.format(run=run.pk), headers=tokens["viewers"])
        assert response.status_code == 422, path
        assert response.json()["detail"].startswith(f"{field}:"), path
    assert client.get("/api/runs/999999/journal", headers=tokens["viewers"]).status_code == 404


def test_match_filters_need_read_sensitive_where_a_workflow_marks_fields(
    client: Client, tokens
) -> None:
    """`match` compares stored values: a viewer could learn a run's sensitive input by asking."""
    asking = "match=input.customer.email%20%3D%20ada%40example.com"
    refused = client.get(f"/api/runs?{asking}", headers=tokens["viewers"])
    assert refused.status_code == 422
    assert refused.json()["detail"].startswith("match: workflow 'test-sensitive'")
    narrowed = client.get(f"/api/runs?workflow=test-sequence&{asking}", headers=tokens["viewers"])
    assert narrowed.status_code == 200
    assert client.get(f"/api/runs?{asking}", headers=tokens["operators"]).status_code == 200


def test_lists_mask_errors_and_progress_and_refuse_step_name_filters(
    client: Client, tokens, make_user
) -> None:
    """A list reads no input, yet a run's error and progress message may quote it: GET /api/runs
    and the runs explorer mask them for viewers as the run's own read does, with one query for
    the listed runs' inputs; a failed-step filter is refused like `match`."""
    run = Run.objects.create(
        workflow="test-sensitive",
        version="code",
        status="failed",
        created_at=timezone.now(),
        input=SAMPLE_INPUT,
        error={"type": "ValueError", "message": "no mailbox ada@example.com"},
        progress={"done": 1, "total": 2, "message": "writing to ada@example.com"},
    )
    StepRecord.objects.create(
        run=run,
        seq=0,
        name="greet-ada@example.com",
        kind="step",
        status="failed",
        started_at=timezone.now(),
    )
    viewed = client.get("/api/runs", headers=tokens["viewers"])
    _no_clear_text(viewed)
    [summary] = viewed.json()
    assert summary["error"]["message"] == "no mailbox ***"
    assert summary["progress"]["message"] == "writing to ***"
    operated = client.get("/api/runs", headers=tokens["operators"]).json()
    assert operated[0]["error"]["message"] == "no mailbox ada@example.com"

    viewer = Client()
    viewer.force_login(make_user("vic", "viewers"))
    page = viewer.get("/runs/")
    assert page.status_code == 200
    _no_clear_text(page)
    assert "no mailbox •••• (sensitive)" in page.content.decode()

    refused = client.get("/api/runs?failed_step=greet-ada%40example.com", headers=tokens["viewers"])
    assert refused.status_code == 422
    assert refused.json()["detail"].startswith("failed_step: workflow 'test-sensitive'")

    # The text search reads error text: for a viewer it leaves unread the error text of
    # workflows that mark input sensitive, so it cannot confirm a value; it still finds the
    # run by its id, and an operator finds it by the value.
    by_value = "/api/runs?q=ada%40example.com"
    assert client.get(by_value, headers=tokens["viewers"]).json() == []
    assert [found["id"] for found in client.get(by_value, headers=tokens["operators"]).json()] == [
        run.pk
    ]
    by_id = client.get(f"/api/runs?q={run.pk}", headers=tokens["viewers"]).json()
    assert [found["id"] for found in by_id] == [run.pk]
    searched = viewer.get("/runs/?q=ada%40example.com").content.decode()
    assert f'href="/runs/{run.pk}/"' not in searched
    assert f'href="/runs/{run.pk}/"' in viewer.get(f"/runs/?q={run.pk}").content.decode()
