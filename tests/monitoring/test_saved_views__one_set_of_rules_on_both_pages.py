"""The inbox and the runs explorer keep saved views by the same rules: a name of 1 to 100
characters, at most 30 per person, the same name again replaces the filters, a refusal
changes nothing and says why on the page it returns to."""

from typing import Any

import pytest
from django.db.models import Model
from django.test import Client
from django.utils import timezone

from engine.models import SavedView
from monitoring.models import SavedRunView
from monitoring.saved_views import MAX_SAVED_VIEWS

pytestmark = pytest.mark.django_db

PAGES = [
    pytest.param("/inbox/", SavedView, {"view": "mine"}, id="inbox"),
    pytest.param("/runs/", SavedRunView, {"workflow": "imports"}, id="runs"),
]


def shown_message(client: Client, page: str) -> str:
    return client.get(page).content.decode()


@pytest.mark.parametrize(("page", "model", "filters"), PAGES)
def test_a_bad_name_or_one_view_too_many_saves_nothing(
    client: Client, make_user: Any, page: str, model: type[Model], filters: dict[str, str]
) -> None:
    person = make_user("olga", "operators", "approvers")
    client.force_login(person)
    for name in ["", " ", "x" * 101]:
        answer = client.post(f"{page}views", {"name": name, **filters})
        assert answer.status_code == 303 and answer["Location"] == page
        assert model._default_manager.count() == 0
    assert "Nothing saved: name: 1 to 100 characters." in shown_message(client, page)

    model._default_manager.bulk_create(
        model(user=person, name=f"view {n}", params={}, created_at=timezone.now())
        for n in range(MAX_SAVED_VIEWS)
    )
    answer = client.post(f"{page}views", {"name": "one more", **filters})
    assert answer.status_code == 303 and model._default_manager.count() == MAX_SAVED_VIEWS
    assert "at most 30 views; delete one" in shown_message(client, page)
    # Replacing one of the thirty is not one more.
    replaced = client.post(f"{page}views", {"name": "view 0", **filters})
    assert replaced.status_code == 303 and "?" in replaced["Location"]
    assert model._default_manager.count() == MAX_SAVED_VIEWS
    kept: Any = model._default_manager.get(name="view 0")
    assert filters.items() <= kept.params.items()
