"""In Chromium, an operator pauses a running run from its page and resumes it, then forks a
failed run from its failed step with edited input and watches the fork complete live."""

import json
import time
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from engine.models import Run, StepRecord
from engine.runtime.runs import start_run
from tests.browser.canvas_helpers import audit, collect_errors, log_in
from tests.engine.runtime.test_engine__runs_through_real_workers import effects, wait_for_status
from tests.processes import wait_until

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("side_effects_table", "celery_worker"),
]


def done_steps(run: Run) -> int:
    return StepRecord.objects.filter(run=run, status="completed").count()


def test_pause_and_resume_a_running_run(page: Page, daphne_server: str, make_user: Any) -> None:
    problems = collect_errors(page)
    make_user("olga", "operators")
    log_in(page, daphne_server, "olga")
    run = start_run("test-slow", {"steps": 5, "pause": 0.8})
    page.goto(f"{daphne_server}/runs/{run.pk}/")
    status = page.get_by_test_id("run-status")
    expect(status).to_have_text("Running", timeout=10_000)

    page.get_by_role("button", name="Pause").click()
    expect(status).to_have_text("Paused")
    expect(page.get_by_role("status")).to_contain_text(f"Run #{run.pk} paused")
    wait_until(lambda: not Run.objects.get(pk=run.pk).lease_owner, 10, "the step to finish")
    held = done_steps(run)
    time.sleep(1.5)  # longer than a step: none starts while paused
    assert done_steps(run) == held < 5

    page.get_by_role("button", name="Resume").click()
    expect(status).to_have_text("Completed", timeout=20_000)  # live, without a reload
    assert wait_for_status(run, "completed").output == [0, 1, 2, 3, 4]
    assert sorted(effects(str(run.pk)).values()) == [1] * 5
    assert problems == [], problems


def test_fork_a_failed_run_from_its_failed_step_with_edited_input(
    page: Page, daphne_server: str, make_user: Any
) -> None:
    problems = collect_errors(page)
    make_user("olga", "operators")
    original = wait_for_status(
        start_run("test-forkable", {"order": "A-7", "card": "declined"}), "failed"
    )
    log_in(page, daphne_server, "olga")
    page.goto(f"{daphne_server}/runs/{original.pk}/")
    page.get_by_text("Fork from a step").click()
    expect(page.get_by_label("From step")).to_have_value("1")  # where it failed
    page.get_by_text("Re-run with edited input").click()
    assert audit(page, "body") == [], "the run page with its forms open"

    # A refused fork shows what was typed and the field at fault, and creates nothing.
    page.get_by_label("Input (JSON; what the run").fill('{"order": "A-7"}')
    with page.expect_response(lambda r: r.url.endswith("/fork")) as refused:
        page.get_by_role("button", name="Fork", exact=True).click()
    assert refused.value.status == 422
    expect(page.get_by_test_id("run-action-problem")).to_contain_text(
        "input: 'card' is a required property"
    )
    assert audit(page, "body") == [], "the refused fork"
    assert not Run.objects.filter(forked_from=original).exists()
    page.get_by_label("Input (JSON; what the run").fill(
        json.dumps({"order": "A-7", "card": "visa"})
    )
    page.get_by_role("button", name="Fork", exact=True).click()

    page.wait_for_url(lambda url: "/runs/" in url and f"/runs/{original.pk}/" not in url)
    fork = Run.objects.get(forked_from=original)
    expect(page).to_have_url(f"{daphne_server}/runs/{fork.pk}/")
    expect(page.get_by_test_id("run-status")).to_have_text("Completed", timeout=20_000)
    expect(page.get_by_test_id("run-lineage")).to_contain_text(
        f"Fork from step 1 of run #{original.pk}"
    )
    assert fork.forked_at_seq == 1
    assert wait_for_status(fork, "completed").output == ["prepared A-7", "charged visa"]
    assert list(effects(str(fork.pk))) == [f"stepwise:{fork.pk}:1:charge_card"]
    expected = (f"422 {daphne_server}/runs/{original.pk}/fork", "status of 422")
    assert [p for p in problems if not any(e in p for e in expected)] == [], problems
