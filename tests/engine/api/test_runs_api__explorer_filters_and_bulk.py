"""GET /api/runs finds runs with the explorer's filters and cursor pages; POST
/api/runs/bulk-cancel and /api/runs/bulk-retry change many runs (by ids or by filter), each under
its own rules, and say what happened to each; viewers may list but never change; bad input is
a 422 naming the field and changes nothing."""

from typing import Any

import pytest
from django.test import Client

from accounts.models import ApiToken
from engine.models import Run
from engine.runtime.bulk_runs import MAX_BULK_RUNS
from engine.runtime.runs import start_run
from tests.engine.runtime.test_engine__runs_through_real_workers import wait_for_status

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("side_effects_table", "celery_worker"),
]


def _token(make_user: Any, name: str, role: str) -> dict[str, str]:
    _, raw = ApiToken.issue(make_user(name, role), "ci")
    return {"Authorization": f"Bearer {raw}"}


@pytest.fixture
def operator(make_user: Any) -> dict[str, str]:
    return _token(make_user, "olga", "operators")


@pytest.fixture
def viewer(make_user: Any) -> dict[str, str]:
    return _token(make_user, "vera", "viewers")


def _post(client: Client, path: str, body: Any, headers: dict[str, str]) -> Any:
    return client.post(path, body, content_type="application/json", headers=headers)


def test_list_filters_and_pages_with_a_cursor(client: Client, viewer: dict[str, str]) -> None:
    made = [start_run("test-sequence", {"steps": 1, "n": n}) for n in range(5)]
    other = start_run("test-wait-simple", {"n": 99})
    for found in made:
        wait_for_status(found, "completed")
    seen: list[int] = []
    url = "/api/runs?workflow=test-sequence&status=completed&limit=2"
    while url:
        page = client.get(url, headers=viewer)
        assert page.status_code == 200, page.content
        seen += [item["id"] for item in page.json()]
        cursor = page.headers.get("X-Next-Cursor", "")
        if cursor:
            assert f"cursor={cursor}" in page.headers["Link"]
        url = (
            f"/api/runs?workflow=test-sequence&status=completed&limit=2&cursor={cursor}"
            if cursor
            else ""
        )
    assert seen == [found.pk for found in reversed(made)]
    # A viewer's value filter names a workflow: another one marks input sensitive.
    matched = client.get(
        "/api/runs?workflow=test-wait-simple&match=input.n%20%3D%2099", headers=viewer
    ).json()
    assert [item["id"] for item in matched] == [other.pk]
    bad = client.get("/api/runs?within=forever", headers=viewer)
    assert bad.status_code == 422
    assert bad.json()["field"] == "within"
    assert "within" in bad.json()["detail"]


def test_bulk_cancel_by_ids_then_bulk_retry_by_filter(
    client: Client, operator: dict[str, str]
) -> None:
    waiting = [start_run("test-wait-simple", {"n": 700 + n}) for n in range(2)]
    done = start_run("test-sequence", {"steps": 1})
    for found in waiting:
        wait_for_status(found, "waiting")
    wait_for_status(done, "completed")

    ids = [waiting[0].pk, waiting[1].pk, done.pk, 987654321]
    answer = _post(client, "/api/runs/bulk-cancel", {"ids": ids}, operator)
    assert answer.status_code == 200, answer.content
    body = answer.json()
    by_id = {item["id"]: item for item in body["results"]}
    assert [by_id[found.pk]["outcome"] for found in waiting] == ["done", "done"]
    assert by_id[done.pk]["outcome"] == "refused"
    assert "already ended completed" in by_id[done.pk]["detail"]
    assert by_id[987654321] == {
        "id": 987654321,
        "workflow": "",
        "outcome": "refused",
        "detail": "no such run",
    }
    assert (body["done"], body["refused"], body["more"]) == (2, 2, False)
    for found in waiting:
        assert wait_for_status(found, "cancelled").error
    assert Run.objects.get(pk=done.pk).status == "completed"

    selected = {"workflow": "test-wait-simple", "status": ["cancelled"]}
    retried = _post(client, "/api/runs/bulk-retry", {"filter": selected}, operator)
    assert retried.status_code == 200, retried.content
    assert sorted(item["id"] for item in retried.json()["results"]) == sorted(
        found.pk for found in waiting
    )
    assert retried.json()["done"] == 2
    for found in waiting:
        wait_for_status(found, "waiting")


def test_viewers_may_list_but_not_change_and_bad_bodies_change_nothing(
    client: Client, operator: dict[str, str], viewer: dict[str, str]
) -> None:
    run = start_run("test-wait-simple", {"n": 801})
    wait_for_status(run, "waiting")
    assert client.get("/api/runs", headers=viewer).status_code == 200
    for path in ("/api/runs/bulk-cancel", "/api/runs/bulk-retry"):
        refused = _post(client, path, {"ids": [run.pk]}, viewer)
        assert refused.status_code == 403
    too_many = list(range(1, MAX_BULK_RUNS + 2))
    for body, field in [
        ({"ids": [run.pk], "filter": {"status": "waiting"}}, "ids"),
        ({}, "ids"),
        ({"ids": too_many}, "ids"),
        ({"ids": ["one"]}, "ids.0"),
        ({"filter": {"status": "sleeping"}}, "status"),
        ({"filter": {"match": "customer"}}, "match"),
        ({"filter": ["status"]}, "filter"),
    ]:
        bad = _post(client, "/api/runs/bulk-cancel", body, operator)
        assert bad.status_code == 422, (body, bad.content)
        assert bad.json()["field"] == field, (body, bad.json())
    not_json = client.post(
        "/api/runs/bulk-cancel", "{", content_type="application/json", headers=operator
    )
    assert not_json.status_code == 422
    assert Run.objects.get(pk=run.pk).status == "waiting"


def test_a_list_answers_summaries_in_one_read(
    client: Client, viewer: dict[str, str], django_assert_max_num_queries: Any
) -> None:
    """Lists carry no input or output (large, and personal data): one run's page has them."""
    from django.utils import timezone

    for n in range(30):
        Run.objects.create(
            workflow="test-sequence",
            version="1",
            input={"customer": f"c-{n}", "card": "4111-1111"},
            output={"secret": "kept out of lists"},
            created_at=timezone.now(),
        )
    with django_assert_max_num_queries(8):  # auth, the page, titles — not one per run
        listed = client.get("/api/runs?workflow=test-sequence&limit=30", headers=viewer)
    assert listed.status_code == 200 and len(listed.json()) == 30
    first = listed.json()[0]
    assert "input" not in first and "output" not in first
    assert "4111" not in listed.content.decode() and first["workflow"] == "test-sequence"
    one = client.get(f"/api/runs/{first['id']}", headers=viewer).json()
    assert one["input"]["card"] == "4111-1111"
