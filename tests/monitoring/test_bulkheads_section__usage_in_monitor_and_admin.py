"""Each bulkhead's usage (in flight of its limit, waiting, the oldest waiter) shows in the
monitor's section, which refreshes itself as a fragment, and in the admin; a limit saved in
the admin becomes the operator's, and a cap too."""

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from engine.core import Bulkhead as Spec
from engine.models import Bulkhead, LimitSource, Run, RunStatus, WorkflowCap
from engine.resilience.bulkheads import enter, keeper
from engine.runtime.runs import start_run

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def busy_bulkhead() -> Iterator[None]:
    """payments: 2 of 2 in flight, one step waiting; idle: nothing."""
    spec = Spec("payments", max_concurrent=2)
    runs = [start_run("test-sequence", {"steps": 1}) for _ in range(3)]
    Run.objects.update(status=RunStatus.WAITING)
    assert enter(runs[0].pk, 0, 0, spec) and enter(runs[1].pk, 0, 0, spec)
    assert not enter(runs[2].pk, 0, 0, spec)
    Bulkhead.objects.create(name="idle", max_concurrent=5)
    yield
    with keeper.lock:
        keeper.held.clear()  # this process stops renewing them once the test is over


@pytest.mark.usefixtures("busy_bulkhead")
def test_the_monitor_section_shows_usage_and_polls_as_a_fragment(client: Client, make_user) -> None:
    client.force_login(make_user("vera", "viewers"))
    page = client.get("/resilience/bulkheads/").content.decode()
    assert 'hx-trigger="every 2s"' in page and "<html" in page
    fragment = client.get("/resilience/bulkheads/", headers={"HX-Request": "true"}).content.decode()
    assert "<html" not in fragment
    payments = fragment.split('data-bulkhead="payments"')[1].split("</tr>")[0]
    assert "2 of 2" in payments and "full" in payments
    assert '<td data-cell="waiting">1</td>' in payments
    assert re.search(r'<td data-cell="oldest">waiting \d+s</td>', payments)
    idle = fragment.split('data-bulkhead="idle"')[1].split("</tr>")[0]
    assert "0 of 5" in idle and "—" in idle


def test_the_section_answers_no_role_with_403(client: Client, make_user) -> None:
    client.force_login(make_user("nobody"))
    assert client.get("/resilience/bulkheads/").status_code == 403


@pytest.mark.usefixtures("busy_bulkhead")
def test_the_admin_lists_usage_and_an_operators_limit_sticks(client: Client, make_user) -> None:
    client.force_login(make_user("root", is_staff=True, is_superuser=True))
    listing = client.get("/admin/engine/bulkhead/").content.decode()
    assert "payments" in listing and "idle" in listing
    payments = Bulkhead.objects.get(name="payments")
    saved = client.post(
        f"/admin/engine/bulkhead/{payments.pk}/change/",
        {"name": "payments", "max_concurrent": "4", "description": "card processor"},
    )
    assert saved.status_code == 302
    payments.refresh_from_db()
    assert (payments.max_concurrent, payments.source) == (4, LimitSource.ADMIN)
    refused = client.post(
        f"/admin/engine/bulkhead/{payments.pk}/change/", {"name": "payments", "max_concurrent": "0"}
    )
    assert refused.status_code == 200
    assert "Ensure this value is greater than or equal to 1" in refused.content.decode()
    assert Bulkhead.objects.get(name="payments").max_concurrent == 4
    added = client.post(
        "/admin/engine/workflowcap/add/",
        {"workflow": "test-sequence", "max_active": "3", "key_field": "customer_id"},
    )
    assert added.status_code == 302
    cap = WorkflowCap.objects.get(workflow="test-sequence")
    assert (cap.max_active, cap.key_field, cap.source) == (3, "customer_id", LimitSource.ADMIN)
    assert timezone.now() - cap.updated_at < timedelta(minutes=1)
