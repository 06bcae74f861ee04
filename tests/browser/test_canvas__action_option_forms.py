"""In Chromium, a designer gives an action node a circuit breaker, a rate limit and a retry
policy with forms (names, numbers, durations with the duration editor, choices such as what
happens when used up or the back-off, checkboxes for the kinds of error never retried and for
the only kinds retried), never typing JSON; the draft then holds them as the engine reads them,
and a retry whose longest wait is shorter than its first, or that ticks both lists of kinds, is
named on its field. The controls pass the accessibility audit."""

import json
import re
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect

from designer.models import Workflow
from engine.core.errors import StepTimeout
from engine.core.retry import retry_from_config
from tests.browser.canvas_helpers import audit, collect_errors, open_panel

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def config_of(slug: str, node: str) -> dict[str, Any]:
    nodes = Workflow.objects.get(slug=slug).draft["nodes"]
    return next((item["config"] for item in nodes if item["id"] == node), {})


def wait_for_config(page: Page, slug: str, key: str, wanted: Any) -> None:
    # Up to 15 s: on a loaded machine the last field's autosave once took longer than 5 s.
    for _ in range(150):
        if config_of(slug, "charge").get(key) == wanted:
            return
        page.wait_for_timeout(100)
    assert config_of(slug, "charge").get(key) == wanted


@pytest.fixture
def errors(page: Page) -> list[str]:
    """The page's errors, from before the canvas opens."""
    return collect_errors(page)


@pytest.fixture
def panel(page: Page, daphne_server: str, make_user: Any, errors: list[str]) -> Locator:
    """The side panel of the `charge` action of the draft `payments`, open for a designer."""
    make_user("dora", "designers")
    graph = {
        "nodes": [
            {"id": "charge", "type": "action.python", "config": {"action": "demo.charge-card"}}
        ],
        "edges": [],
    }
    return open_panel(page, daphne_server, "dora", "payments", graph, "charge")


def test_a_designer_sets_a_breaker_and_a_rate_limit_with_forms(
    page: Page, panel: Locator, errors: list[str]
) -> None:

    breaker = panel.locator("[data-field=circuit_breaker]")
    breaker.get_by_label("Dependency name").fill("card-gateway")
    breaker.get_by_label("Failures that open it").fill("5")
    breaker.get_by_label("Open for", exact=True).fill("2")
    breaker.get_by_label("Open for: unit").select_option("m")
    panel.get_by_label("Label").click()  # leaving the form applies it
    wait_for_config(
        page,
        "payments",
        "circuit_breaker",
        {"name": "card-gateway", "failure_threshold": 5, "cool_down": "2m"},
    )

    limit = panel.locator("[data-field=rate_limit]")
    limit.get_by_label("Limit name").fill("charges")
    limit.get_by_label("Calls").fill("30")
    limit.get_by_role("spinbutton", name=re.compile(r"^Per")).fill("1")
    limit.get_by_label("Per: unit").select_option("m")
    limit.get_by_label("When used up").select_option("fail")
    panel.get_by_label("Label").click()
    wait_for_config(
        page,
        "payments",
        "rate_limit",
        {"name": "charges", "limit": 30, "period": "1m", "on_limit": "fail"},
    )
    violations = audit(page, "#panel")
    assert violations == [], json.dumps(violations, indent=1)
    assert errors == [], errors


def test_a_designer_sets_a_retry_policy_with_a_form(
    page: Page, panel: Locator, errors: list[str]
) -> None:
    retry = panel.locator("[data-field=retry]")
    expect(retry.get_by_role("button", name="Edit as JSON")).to_be_visible()
    retry.get_by_label("Attempts at most").fill("5")
    retry.get_by_label("Back-off").select_option("exponential")
    retry.get_by_label("First wait", exact=True).fill("30")
    retry.get_by_label("Factor").fill("3")
    retry.get_by_label("Longest wait", exact=True).fill("10")
    retry.get_by_label("Longest wait: unit").select_option("m")
    retry.get_by_label("Jitter").fill("0")
    panel.get_by_label("Label").click()  # leaving the form applies it
    wanted = {
        "max_attempts": 5,
        "backoff": "exponential",
        "initial_delay": 30,
        "multiplier": 3,
        "max_delay": "10m",
        "jitter": 0,
    }
    wait_for_config(page, "payments", "retry", wanted)
    policy = retry_from_config(wanted)
    assert [policy.delay(attempt) for attempt in (1, 2, 3)] == [30.0, 90.0, 270.0]

    retry.get_by_label("Longest wait: unit").select_option("s")
    expect(retry).to_contain_text("max_delay: must not be shorter than the first wait")
    violations = audit(page, "#panel")
    assert violations == [], json.dumps(violations, indent=1)
    assert errors == [], errors


def test_a_designer_ticks_the_errors_never_retried(
    page: Page, panel: Locator, errors: list[str]
) -> None:
    retry = panel.locator("[data-field=retry]")
    kinds = retry.get_by_role("group", name="Never retry after")
    for box in kinds.get_by_role("checkbox").all():
        expect(box).not_to_be_checked()  # none ticked: every retryable error is retried
    kinds.get_by_role("checkbox", name=re.compile(r"^Any other error")).check()
    kinds.get_by_role("checkbox", name=re.compile(r"^Timeouts")).check()
    # Kept in the order the engine lists them, whatever order they were ticked in.
    wait_for_config(page, "payments", "retry", {"non_retryable": ["timeout", "other"]})
    policy = retry_from_config(config_of("payments", "charge")["retry"])
    assert not policy.should_retry(StepTimeout("slow"), 1)
    assert policy.should_retry(ConnectionError("reset"), 1)

    kinds.get_by_role("checkbox", name=re.compile(r"^Timeouts")).uncheck()
    wait_for_config(page, "payments", "retry", {"non_retryable": ["other"]})
    kinds.get_by_role("checkbox", name=re.compile(r"^Any other error")).uncheck()
    wait_for_config(page, "payments", "retry", None)  # nothing left: the option is removed
    violations = audit(page, "#panel")
    assert violations == [], json.dumps(violations, indent=1)
    assert errors == [], errors


def test_a_designer_ticks_the_only_errors_retried(
    page: Page, panel: Locator, errors: list[str]
) -> None:
    retry = panel.locator("[data-field=retry]")
    only = retry.get_by_role("group", name="Retry only after")
    expect(retry).to_contain_text(
        "Only these errors are retried; any other fails the node at once. "
        "None ticked: every error worth retrying is retried."
    )
    for box in only.get_by_role("checkbox").all():
        expect(box).not_to_be_checked()
    only.get_by_role("checkbox", name=re.compile(r"^Timeouts")).check()
    only.get_by_role("checkbox", name=re.compile(r"^Temporary failure answers")).check()
    wait_for_config(page, "payments", "retry", {"retry_on": ["server_error", "timeout"]})
    policy = retry_from_config(config_of("payments", "charge")["retry"])
    assert policy.should_retry(StepTimeout("slow"), 1)
    assert not policy.should_retry(RuntimeError("the action's own bug"), 1)

    # Ticking the other list too is a mistake, named on the field until one list is cleared.
    never = retry.get_by_role("group", name="Never retry after")
    never.get_by_role("checkbox", name=re.compile(r"^Any other error")).check()
    both = "retry_on: give either retry_on or non_retryable, not both"
    expect(retry).to_contain_text(both)
    never.get_by_role("checkbox", name=re.compile(r"^Any other error")).uncheck()
    expect(retry).not_to_contain_text(both)
    wait_for_config(page, "payments", "retry", {"retry_on": ["server_error", "timeout"]})
    violations = audit(page, "#panel")
    assert violations == [], json.dumps(violations, indent=1)
    assert errors == [], errors
