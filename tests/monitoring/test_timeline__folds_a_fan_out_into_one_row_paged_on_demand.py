"""GET /api/runs/{id}/timeline folds a loop's items (and a big parallel group's branches) into
one row with counts by status and a span, so its first answer is as small for 3,000 items as
for 100; GET /api/runs/{id}/timeline/items pages them, optionally only the failed ones, as the
rows `?fold=false` answers; the run page carries that first answer; bad paging is a 422 naming
the field."""

from typing import Any

import pytest
from django.test import Client

from engine.models import Run, StepRecord
from tests.monitoring.fanned_out_runs import loop_run, publish_loop

pytestmark = pytest.mark.django_db


@pytest.fixture
def viewer(make_user: Any) -> Client:
    client = Client()
    client.force_login(make_user("vera", "viewers"))
    return client


def timeline(client: Client, run: Run, query: str = "") -> dict[str, Any]:
    answer = client.get(f"/api/runs/{run.pk}/timeline{query}")
    assert answer.status_code == 200, answer.content
    return answer.json()


def items(client: Client, run: Run, **query: Any) -> Any:
    return client.get(f"/api/runs/{run.pk}/timeline/items", {"group": "loop:work", **query})


def test_the_first_answer_is_as_small_for_3000_items_as_for_100(viewer: Client) -> None:
    workflow = publish_loop()
    sizes = {}
    for count in (100, 3000):
        run = loop_run(workflow, count, failed=frozenset({7, count - 1}))
        answer = viewer.get(f"/api/runs/{run.pk}/timeline")
        sizes[count] = len(answer.content)
        body = answer.json()
        # start, each, the loop's items as one row (their 50-item waves folded in), done.
        assert [row["name"] for row in body["rows"]] == ["start", "each", "work", "done"]
        work = body["rows"][2]
        assert work["group"] == "loop:work" and work["kind"] == "group"
        assert work["items"] == count
        assert work["counts"] == {"completed": count - 2, "failed": 2}
        assert work["status"] == "failed" and work["waves"] == count // 50
        assert work["first_error"] == {
            "name": "work[7]",
            "error": "work[7] went wrong (ValueError)",
        }
        assert 0 < work["start"] < work["end"] <= body["span"]
        assert body["groups"] == 1 and body["verdict"]
    assert sizes[3000] < 3_000, sizes
    assert sizes[3000] - sizes[100] < 50, sizes  # a few more digits, nothing per item


def test_items_are_paged_filtered_and_drawn_as_unfolded_rows(viewer: Client) -> None:
    run = loop_run(publish_loop(), 130, failed=frozenset({3, 64, 129}))
    every_row = {row["name"]: row for row in timeline(viewer, run, "?fold=false")["rows"]}
    assert "work[64]" in every_row and "parallel" in every_row  # nothing folded when asked

    first = items(viewer, run).json()
    assert [row["name"] for row in first["rows"]] == [f"work[{n}]" for n in range(50)]
    assert (first["items"], first["total"], first["offset"], first["limit"]) == (130, 130, 0, 50)
    assert first["t0"] == timeline(viewer, run)["t0"]
    last = items(viewer, run, offset=100, limit=50).json()
    assert [row["name"] for row in last["rows"]] == [f"work[{n}]" for n in range(100, 130)]
    assert last["rows"][-1] == every_row["work[129]"]  # the same row as the unfolded answer

    failed = items(viewer, run, status="failed", limit=2).json()
    assert [row["name"] for row in failed["rows"]] == ["work[3]", "work[64]"]
    assert failed["total"] == 3 and failed["status"] == "failed"
    assert failed["rows"][0]["attempts"][-1]["error"] == "work[3] went wrong (ValueError)"
    assert items(viewer, run, status="failed", offset=2).json()["rows"][0]["name"] == "work[129]"


def test_a_few_parallel_branches_stay_rows_and_many_fold_under_their_group(
    viewer: Client,
) -> None:
    workflow = publish_loop()
    small, big = loop_run(workflow, 5), loop_run(workflow, 400, wave=400)
    names = [row["name"] for row in timeline(viewer, small)["rows"]]
    assert names == ["start", "each", "parallel", *(f"work[{n}]" for n in range(5)), "done"]
    # A code workflow's parallel group: its branches fold, its own row stays above them.
    StepRecord.objects.filter(run=big, branch__gt=0).update(name="send")
    rows = timeline(viewer, big)["rows"]
    assert [row["name"] for row in rows] == ["start", "each", "parallel", "branches of #2", "done"]
    assert rows[3]["group"] == "parallel:2" and rows[3]["items"] == 400
    page = viewer.get(f"/api/runs/{big.pk}/timeline/items", {"group": "parallel:2", "limit": 3})
    assert [row["branch"] for row in page.json()["rows"]] == [1, 2, 3]


def test_the_run_page_carries_the_first_answer(viewer: Client) -> None:
    run = loop_run(publish_loop(), 1000)
    page = viewer.get(f"/runs/{run.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="timeline-first"' in html
    assert '"group": "loop:work"' in html and '"items": 1000' in html
    assert "work[999]" in html  # the journal table's newest rows, not the chart's
    assert html.count("work[") < 150


@pytest.mark.parametrize(
    ("query", "field", "status"),
    [
        ({"limit": 0}, "limit", 422),
        ({"limit": 201}, "limit", 422),
        ({"offset": -1}, "offset", 422),
        ({"offset": "ten"}, "offset", 422),
        ({"status": "exploded"}, "status", 422),
        ({"group": "x" * 301}, "group", 422),
        ({"group": "loop:nothing"}, "group", 404),
        ({"group": "loop:each"}, "group", 404),
    ],
    ids=str,
)
def test_bad_paging_is_refused_naming_the_field(
    viewer: Client, query: dict[str, Any], field: str, status: int
) -> None:
    run = loop_run(publish_loop(), 30)
    answer = items(viewer, run, **query)
    assert (answer.status_code, answer.json()["field"]) == (status, field)


def test_people_without_the_view_role_read_no_items(make_user: Any) -> None:
    run = loop_run(publish_loop(), 30)
    client = Client()
    client.force_login(make_user("nobody"))
    assert items(client, run).status_code == 403
    assert Client().get(f"/api/runs/{run.pk}/timeline/items?group=loop:work").status_code == 401
