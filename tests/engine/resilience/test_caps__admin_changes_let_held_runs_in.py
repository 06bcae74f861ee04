"""A workflow cap changed in the Django admin lets its held runs in when the change is saved:
raising it on the change form admits as many as now fit (by priority), and deleting it, from
its delete page or with the list's "delete selected" action, admits them all; each is sent to
a worker and the operator is told how many. No worker: the rows and the messages are the world."""

from typing import Any

import pytest
from django.db import transaction
from django.test import Client

from engine.models import Run, WorkflowCap
from engine.resilience.priorities import ADMITTED, HELD
from engine.runtime.runs import create_run

pytestmark = [
    pytest.mark.django_db(transaction=True),
    # Nobody advances these runs while the test looks at them.
    pytest.mark.usefixtures("queue_to_ourselves"),
]

CAPS = "/admin/engine/workflowcap/"


@pytest.fixture
def root(client: Client, make_user: Any) -> Client:
    client.force_login(make_user("root", is_staff=True, is_superuser=True))
    return client


def held_behind(workflow: str, *priorities: int) -> tuple[WorkflowCap, list[Run]]:
    """A cap of one on `workflow`, one run moving and a held run per priority."""
    cap = WorkflowCap.objects.create(workflow=workflow, max_active=1)
    with transaction.atomic():
        runs = [
            create_run(workflow, {"url": "http://127.0.0.1:9/", "label": str(n)}, priority=p)
            for n, p in enumerate([0, *priorities])
        ]
    assert [run.admission for run in runs] == [ADMITTED] + [HELD] * len(priorities)
    return cap, runs[1:]


def admissions(runs: list[Run]) -> list[tuple[str, bool]]:
    """Each run's admission and whether it was sent, in the order given."""
    found = {run.pk: run for run in Run.objects.filter(pk__in=[run.pk for run in runs])}
    return [(found[run.pk].admission, found[run.pk].dispatched_at is not None) for run in runs]


def text(response: Any) -> str:
    return response.content.decode()


def test_raising_a_cap_on_the_change_form_admits_what_fits(
    root: Client, published: list[int]
) -> None:
    cap, held = held_behind("test-uncapped", 0, 20, 10, -5)
    published.clear()

    response = root.post(
        f"{CAPS}{cap.pk}/change/",
        {"workflow": "test-uncapped", "max_active": "3", "key_field": ""},
        follow=True,
    )

    assert response.status_code == 200
    assert admissions(held) == [(HELD, False), (ADMITTED, True), (ADMITTED, True), (HELD, False)]
    assert published == [held[1].pk, held[2].pk]
    assert WorkflowCap.objects.get(pk=cap.pk).max_active == 3
    assert "2 held runs were let in and sent to a worker." in text(response)


def test_deleting_a_cap_on_its_delete_page_admits_every_held_run(
    root: Client, published: list[int]
) -> None:
    cap, held = held_behind("test-uncapped", 0, 50, -5)
    published.clear()

    response = root.post(f"{CAPS}{cap.pk}/delete/", {"post": "yes"}, follow=True)

    assert response.status_code == 200
    assert not WorkflowCap.objects.exists()
    assert admissions(held) == [(ADMITTED, True)] * 3
    assert published == [held[1].pk, held[0].pk, held[2].pk]
    assert "3 held runs were let in and sent to a worker." in text(response)


def test_deleting_caps_with_the_list_action_admits_every_held_run(
    root: Client, published: list[int]
) -> None:
    one, held_one = held_behind("test-uncapped", 0, 0)
    other, held_other = held_behind("test-sequence", 0)
    published.clear()

    response = root.post(
        CAPS,
        {"action": "delete_selected", "_selected_action": [one.pk, other.pk], "post": "yes"},
        follow=True,
    )

    assert response.status_code == 200
    assert not WorkflowCap.objects.exists()
    assert admissions(held_one + held_other) == [(ADMITTED, True)] * 3
    # Caps are taken in workflow order: test-sequence's run goes before test-uncapped's.
    assert published == [held_other[0].pk, *(run.pk for run in held_one)]
    assert "3 held runs were let in and sent to a worker." in text(response)
