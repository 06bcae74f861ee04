"""In Chromium, an operator creates an order on the machine's page and works it through its
cockpit (/machines/order/instances/<id>/): the events the state allows are buttons, a blocked
one is disabled with its guard's reason, event data is typed in named fields, and a viewer
watching the same instance in a second browser sees every change arrive without reloading."""

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from engine.machines.instances import create_instance
from engine.models import MachineEvent, MachineInstance
from tests.browser.canvas_helpers import collect_errors, log_in
from tests.engine.machines.helpers import wait_applied

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("celery_worker"),
]

LIVE = 10_000  # ms: the page polls only every 30 s, so a change sooner came over its socket


@pytest.fixture
def contexts(browser: Browser) -> Iterator[list[BrowserContext]]:
    opened: list[BrowserContext] = []
    yield opened
    for context in opened:
        context.close()


def cockpit(
    browser: Browser, contexts: list[BrowserContext], base: str, user: str, instance: Any
) -> Page:
    context = browser.new_context()
    contexts.append(context)
    page = context.new_page()
    log_in(page, base, user)
    page.goto(f"{base}/machines/order/instances/{instance.pk}/")
    live = "[data-live-target='#instance-live'][data-live-connected='1']"
    expect(page.locator(live)).to_have_count(1, timeout=LIVE)
    return page


def order(key: str, **context: Any) -> MachineInstance:
    instance = create_instance("order", key, context)
    wait_applied(instance.pk)
    return instance


def test_an_operator_moves_an_order_and_a_viewer_sees_it_live(
    browser: Browser, daphne_server: str, contexts: list[BrowserContext], make_user: Any
) -> None:
    make_user("olga", "operators")
    make_user("vera", "viewers")
    empty = order("order-empty")

    operator = cockpit(browser, contexts, daphne_server, "olga", empty)
    errors = collect_errors(operator)
    # No items: submitting is blocked, and the page says by which guard.
    expect(operator.get_by_test_id("event-submit")).to_be_disabled()
    expect(operator.get_by_test_id("blocked-submit")).to_contain_text("size(context.items) > 0")
    expect(operator.get_by_test_id("event-cancel")).to_be_enabled()

    # The operator creates the next order from the machine's page, its items typed as a list.
    operator.goto(f"{daphne_server}/machines/order/")
    operator.get_by_label("Key").fill("order-1")
    operator.get_by_label("Name").fill("items")
    operator.get_by_label("Value").fill('[{"sku": "lamp"}]')
    operator.get_by_role("button", name="Create").click()
    expect(operator.get_by_role("status")).to_contain_text("Created order-1")
    instance = MachineInstance.objects.get(machine="order", key="order-1")
    assert instance.context["items"] == [{"sku": "lamp"}]
    wait_applied(instance.pk)

    watcher = cockpit(browser, contexts, daphne_server, "vera", instance)
    watcher.evaluate("() => { window.stillTheSamePage = true; }")
    expect(watcher.get_by_test_id("instance-state")).to_have_text("draft")
    expect(watcher.get_by_role("button", name="submit → pending")).to_have_count(0)  # viewer

    operator.goto(f"{daphne_server}/machines/order/instances/{instance.pk}/")
    operator.get_by_role("button", name="Add a field").click()
    names = operator.get_by_label("Name")
    values = operator.get_by_label("Value")
    names.nth(0).fill("note")
    values.nth(0).fill("gift wrap")
    names.nth(1).fill("priority")
    values.nth(1).fill("2")
    operator.get_by_test_id("event-submit").click()
    expect(operator.get_by_role("status")).to_contain_text("Sent submit")

    expect(watcher.get_by_test_id("instance-state")).to_have_text("pending", timeout=LIVE)
    submitted = MachineEvent.objects.get(instance=instance, name="submit")
    assert submitted.data == {"note": "gift wrap", "priority": 2}

    operator.reload()
    expect(operator.get_by_test_id("instance-state")).to_have_text("pending")
    operator.get_by_test_id("event-pay").click()
    expect(watcher.get_by_test_id("instance-state")).to_have_text("processing", timeout=LIVE)
    history = watcher.get_by_test_id("history")
    expect(history).to_contain_text("pending → processing")
    expect(history).to_contain_text("process-payment")
    assert watcher.evaluate("() => window.stillTheSamePage === true")  # no reload: it came live
    assert errors == [], errors
