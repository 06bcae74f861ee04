"""In Chromium, a machine's canvas counts the instances in each state and, opened for one
instance (?instance=<id>), highlights the state it is in; both follow the worker live."""

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from designer.demo_machines import load_demo_machines
from engine.machines.instances import create_instance, send_event
from tests.browser.canvas_helpers import collect_errors, log_in
from tests.browser.test_machine_canvas__draw_publish import open_machine_canvas
from tests.engine.machines.helpers import wait_applied

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("celery_worker"),
]

LIVE = 10_000  # ms: the canvas does not poll, so a change came over its sockets


def order(key: str) -> int:
    context = {"id": key, "items": [{"sku": "lamp"}], "total": 20, "card": "4242"}
    instance = create_instance("canvas-order", key, context)
    wait_applied(instance.pk)
    return int(instance.pk)


def test_counts_per_state_and_the_watched_instance_move_live(
    page: Page, daphne_server: str, make_user: Any
) -> None:
    errors = collect_errors(page)
    make_user("dora", "designers")
    load_demo_machines(None)
    first, second = order("o-1"), order("o-2")

    log_in(page, daphne_server, "dora")
    page.goto(f"{daphne_server}/designer/machines/canvas-order/canvas/?instance={first}")
    expect(page.locator("html[data-canvas-ready='1']")).to_have_count(1)
    expect(page.get_by_test_id("here-draft")).to_have_text("2")
    expect(page.get_by_test_id("node-draft")).to_have_attribute("data-active", "1")
    expect(page.get_by_test_id("instance-banner")).to_contain_text("o-1")

    send_event(first, "submit")
    expect(page.get_by_test_id("node-pending")).to_have_attribute("data-active", "1", timeout=LIVE)
    expect(page.get_by_test_id("node-draft")).to_have_attribute("data-active", "")
    expect(page.get_by_test_id("here-pending")).to_have_text("1")
    expect(page.get_by_test_id("here-draft")).to_have_text("1")

    send_event(second, "submit")  # another instance: counts move, the highlight stays
    expect(page.get_by_test_id("here-pending")).to_have_text("2", timeout=LIVE)
    expect(page.get_by_test_id("here-draft")).to_have_count(0)
    expect(page.get_by_test_id("instance-banner")).to_contain_text("pending")
    # Drawn, not stored: the overlay never makes the draft unsaved.
    expect(page.get_by_test_id("save-status")).not_to_contain_text("Unsaved")
    assert errors == [], errors


def test_without_an_instance_the_canvas_only_counts(
    page: Page, daphne_server: str, make_user: Any
) -> None:
    make_user("dora", "designers")
    load_demo_machines(None)
    order("o-3")
    log_in(page, daphne_server, "dora")
    open_machine_canvas(page, daphne_server, "canvas-order")
    expect(page.get_by_test_id("here-draft")).to_have_text("1")
    expect(page.get_by_test_id("instance-banner")).to_have_count(0)
    expect(page.locator("[data-active='1']")).to_have_count(0)


def test_a_read_that_fails_is_tried_again_without_waiting_for_another_change(
    page: Page, daphne_server: str, make_user: Any
) -> None:
    make_user("dora", "designers")
    load_demo_machines(None)
    watched = order("o-4")
    log_in(page, daphne_server, "dora")
    page.goto(f"{daphne_server}/designer/machines/canvas-order/canvas/?instance={watched}")
    expect(page.get_by_test_id("node-draft")).to_have_attribute("data-active", "1")
    # The read the instance's next message asks for fails, as on a dropped connection.
    failed: list[str] = []

    def fail_once(route: Any) -> None:
        if failed:
            route.continue_()
            return
        failed.append(route.request.url)
        route.abort()

    page.route(f"**/api/instances/{watched}", fail_once)
    send_event(watched, "submit")
    # One message only, and its read failed: the retry draws the change.
    expect(page.get_by_test_id("node-pending")).to_have_attribute("data-active", "1", timeout=LIVE)
    assert len(failed) == 1, failed
