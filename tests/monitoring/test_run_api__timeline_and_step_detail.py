"""GET /api/runs/{id}/timeline, /steps/{step_id} and /nodes/{node_id}: viewers read a run's
timeline and one step's input, output, error, attempts and logs; nobody else does."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from engine.models import Run, StepRecord


def logged_in(make_user, username: str, *roles: str) -> Client:
    client = Client()
    client.force_login(make_user(username, *roles))
    return client


@pytest.fixture
def journal(db) -> dict[str, int]:
    now = timezone.now()
    t0 = now - timedelta(seconds=30)
    run = Run.objects.create(
        workflow="orders",
        version="v1",
        kind="graph",
        status="running",
        created_at=t0,
        started_at=t0,
    )
    other = Run.objects.create(workflow="orders", version="v1", status="completed", created_at=t0)

    def add(**fields):
        fields.setdefault("kind", "step")
        fields.setdefault("started_at", t0)
        return StepRecord.objects.create(run=run, **fields)

    add(seq=0, name="now", kind="value", status="completed", output="2026", finished_at=t0)
    first = add(
        seq=1,
        branch=1,
        name="send[2]",
        attempt=1,
        status="retrying",
        detail={
            "step": "send",
            "args": [{"to": "ann@example.com"}],
            "kwargs": {},
        },
        logs=[
            {"at": "2026-12-06T09:14:02+00:00", "level": "info", "message": "connecting to smtp"},
            {"at": "2026-12-06T09:14:04+00:00", "level": "warning", "message": "timeout"},
        ],
        error={"type": "TimeoutError", "message": "smtp did not answer", "traceback": "File x"},
        finished_at=t0 + timedelta(seconds=2),
        retry_at=t0 + timedelta(seconds=5),
    )
    second = add(
        seq=1,
        branch=1,
        name="send[2]",
        attempt=2,
        status="completed",
        detail={"step": "send", "args": [{"to": "ann@example.com"}], "kwargs": {}},
        output={"sent": True},
        started_at=t0 + timedelta(seconds=6),
        finished_at=t0 + timedelta(seconds=7),
    )
    stranger = StepRecord.objects.create(
        run=other, seq=0, name="x", kind="step", status="completed", started_at=t0
    )
    return {"run": run.pk, "first": first.pk, "second": second.pk, "stranger": stranger.pk}


def test_a_viewer_reads_the_timeline_without_internal_rows(make_user, journal) -> None:
    viewer = logged_in(make_user, "vera", "viewers")
    body = viewer.get(f"/api/runs/{journal['run']}/timeline").json()
    assert [row["name"] for row in body["rows"]] == ["send[2]"]
    assert body["hidden_internal"] == 1
    attempts = body["rows"][0]["attempts"]
    assert [a["n"] for a in attempts] == [1, 2]
    assert [s[0] for s in attempts[0]["segments"]] == ["running", "backoff"]
    assert [s[0] for s in attempts[1]["segments"]] == ["queued", "running"]
    assert body["verdict"].startswith("running for 3")  # nothing open: the run as a whole
    shown = viewer.get(f"/api/runs/{journal['run']}/timeline?internal=true").json()
    assert [row["name"] for row in shown["rows"]] == ["now", "send[2]"]


def test_a_step_shows_input_output_error_attempts_and_logs(make_user, journal) -> None:
    viewer = logged_in(make_user, "vera", "viewers")
    step = viewer.get(f"/api/runs/{journal['run']}/steps/{journal['first']}").json()
    # Either row of the position answers with the whole position, newest attempt's result.
    assert step["id"] == journal["second"] and step["node"] == "send"
    assert step["input_kept"] and step["input"]["args"] == [{"to": "ann@example.com"}]
    assert step["output"] == {"sent": True} and step["error"] is None
    first, second = step["attempts"]
    assert first["error"]["message"] == "smtp did not answer"
    assert first["error"]["type"] == "TimeoutError" and first["error"]["traceback"] == "File x"
    assert first["logs"] == ["09:14:02 info connecting to smtp", "09:14:04 warning timeout"]
    assert second["logs"] == []
    assert first["retry_at"] is not None and second["duration_ms"] == pytest.approx(1000)
    by_node = viewer.get(f"/api/runs/{journal['run']}/nodes/send").json()
    assert by_node["id"] == journal["second"]


def test_wrong_ids_are_404_naming_the_field_and_long_ids_422(make_user, journal) -> None:
    viewer = logged_in(make_user, "vera", "viewers")
    foreign = viewer.get(f"/api/runs/{journal['run']}/steps/{journal['stranger']}")
    assert foreign.status_code == 404 and "step_id" in foreign.json()["detail"]
    assert viewer.get(f"/api/runs/999999/steps/{journal['first']}").status_code == 404
    missing = viewer.get(f"/api/runs/{journal['run']}/nodes/nothing")
    assert missing.status_code == 404 and "node_id" in missing.json()["detail"]
    long = viewer.get(f"/api/runs/{journal['run']}/nodes/{'n' * 300}")
    assert long.status_code == 422 and "node_id" in long.json()["detail"]
    assert viewer.get(f"/api/runs/{journal['run']}/steps/abc").status_code == 422


def test_people_without_the_view_role_read_nothing(make_user, journal) -> None:
    nobody = logged_in(make_user, "nora")
    anonymous = Client()
    for path in (
        f"/api/runs/{journal['run']}/timeline",
        f"/api/runs/{journal['run']}/steps/{journal['first']}",
        f"/api/runs/{journal['run']}/nodes/send",
    ):
        refused = nobody.get(path)
        assert refused.status_code == 403 and "view" in refused.json()["detail"]
        assert anonymous.get(path).status_code == 401


def test_step_states_list_every_row_without_data_in_constant_queries(
    make_user, journal, django_assert_max_num_queries
) -> None:
    """The canvas overlay reads every row's state, past the first journal page, and no output."""
    run = Run.objects.get(pk=journal["run"])
    StepRecord.objects.bulk_create(
        StepRecord(
            run=run,
            seq=10 + item,
            name=f"send[{item}]",
            kind="step",
            status="completed",
            output={"big": "x" * 100},
            started_at=run.started_at,
        )
        for item in range(150)
    )
    viewer = logged_in(make_user, "vera", "viewers")
    with django_assert_max_num_queries(8):
        body = viewer.get(f"/api/runs/{run.pk}/step-states").json()
    assert body["status"] == "running" and len(body["steps"]) == 153
    assert body["steps"][-1] == {"name": "send[149]", "kind": "step", "status": "completed"}
    assert all(set(step) == {"name", "kind", "status"} for step in body["steps"])
    assert Client().get(f"/api/runs/{run.pk}/step-states").status_code in (401, 403)
