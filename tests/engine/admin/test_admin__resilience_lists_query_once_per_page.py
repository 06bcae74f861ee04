"""The admin's workflow cap list shows each cap's runs moving and runs held, and the breaker and
rate limit lists their live state: each page costs the same number of queries whatever the
number of rows (the usage is read once per page, not once per row)."""

import re
import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext

from engine.core.resilience import BreakerSpec, RateLimitSpec
from engine.models import (
    BreakerDefinition,
    RateLimitDefinition,
    Run,
    RunStatus,
    WorkflowCap,
)
from engine.resilience.breakers import guarded
from engine.resilience.definitions import forget_definitions
from engine.resilience.priorities import ADMITTED, HELD
from engine.resilience.rate_limits import acquire
from engine.runtime.runs import start_run

pytestmark = pytest.mark.django_db


def listing(client: Client, path: str) -> tuple[str, int]:
    """The changelist's HTML and how many queries it took (definitions read afresh)."""
    forget_definitions()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200
    return response.content.decode(), len(queries)


def cells(page: str, row: str) -> dict[str, str]:
    """The cells of the row whose first column links to `row`, by column name."""
    found = page.split(f">{row}</a>")[1].split("</tr>")[0]
    return dict(re.findall(r'<td class="field-([a-z_]+)[^"]*">(.*?)</td>', found))


def runs(workflow: str, admission: str, count: int, status: str = RunStatus.WAITING) -> None:
    made = [start_run("test-sequence", {"steps": 1}).pk for _ in range(count)]
    Run.objects.filter(pk__in=made).update(workflow=workflow, admission=admission, status=status)


def test_the_cap_list_counts_runs_moving_and_held_in_one_query(staff: Client) -> None:
    WorkflowCap.objects.create(workflow="cap-busy", max_active=2)
    WorkflowCap.objects.create(workflow="cap-idle", max_active=5)
    runs("cap-busy", ADMITTED, 2)
    runs("cap-busy", HELD, 3)
    runs("cap-busy", ADMITTED, 1, status=RunStatus.COMPLETED)  # ended: no longer counts
    runs("cap-idle", "", 1)  # started before the cap: neither admitted nor held
    page, few = listing(staff, "/admin/engine/workflowcap/")
    assert (cells(page, "cap-busy")["moving"], cells(page, "cap-busy")["held"]) == ("2", "3")
    assert (cells(page, "cap-idle")["moving"], cells(page, "cap-idle")["held"]) == ("0", "0")

    for number in range(6):
        WorkflowCap.objects.create(workflow=f"cap-more-{number}", max_active=1)
        runs(f"cap-more-{number}", HELD, 1)
    page, many = listing(staff, "/admin/engine/workflowcap/")
    assert cells(page, "cap-more-5")["held"] == "1"
    assert many == few

    ordered, _ = listing(staff, "/admin/engine/workflowcap/?o=5")  # by runs held
    assert ordered.index("cap-idle") < ordered.index("cap-more-0") < ordered.index("cap-busy")


@override_settings(STEPWISE_RESILIENCE_STATE="database")
def test_breaker_and_rate_limit_lists_read_live_state_once(staff: Client) -> None:
    tag = uuid.uuid4().hex[:6]
    failing = f"crm-{tag}"
    BreakerDefinition.objects.create(name=failing, failure_threshold=5)
    RateLimitDefinition.objects.create(name=failing, limit=5, period=timedelta(minutes=1))
    for _ in range(2):
        with pytest.raises(RuntimeError), guarded(BreakerSpec(name=failing)):
            raise RuntimeError("down")
    acquire(RateLimitSpec(name=failing, limit=5, period=60.0), {})

    breakers, few_breakers = listing(staff, "/admin/engine/breakerdefinition/")
    assert cells(breakers, failing)["failures"] == "2"
    assert cells(breakers, failing)["state"] == "closed"
    limits, few_limits = listing(staff, "/admin/engine/ratelimitdefinition/")
    assert cells(limits, failing)["usage"] == "(all): 1/5"

    for number in range(6):
        name = f"more-{tag}-{number}"
        BreakerDefinition.objects.create(name=name)
        RateLimitDefinition.objects.create(name=name, limit=1, period=timedelta(minutes=1))
        with pytest.raises(RuntimeError), guarded(BreakerSpec(name=name)):
            raise RuntimeError("down")
        acquire(RateLimitSpec(name=name, limit=1, period=60.0), {})
    breakers, many_breakers = listing(staff, "/admin/engine/breakerdefinition/")
    assert cells(breakers, f"more-{tag}-5")["failures"] == "1"
    limits, many_limits = listing(staff, "/admin/engine/ratelimitdefinition/")
    assert cells(limits, f"more-{tag}-5")["usage"] == "(all): 1/1"
    assert (many_breakers, many_limits) == (few_breakers, few_limits)
