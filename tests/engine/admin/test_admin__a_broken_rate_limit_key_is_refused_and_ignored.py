"""A rate limit's key template is checked where it is written: the admin's form refuses a
broken one, naming the field, and saves nothing. A broken row already in the table (saved
before that check, or written around the form) is left out when definitions are read: the
admin's lists, the monitor's page and the API still answer, and the steps that use that name
keep their own declaration. Before, one such row made every one of them a 500 and failed every
step that used any breaker or rate limit."""

import pytest
from django.test import Client

from engine.core.resilience import BreakerSpec, RateLimitSpec
from engine.models import RateLimitDefinition
from engine.resilience.definitions import (
    effective_breaker,
    effective_rate_limit,
    forget_definitions,
)

pytestmark = pytest.mark.django_db

BROKEN_KEYS = ["{{ input.customer ", "{{ }}"]


@pytest.mark.parametrize("key", BROKEN_KEYS)
def test_the_form_refuses_a_broken_key_naming_it(staff: Client, key: str) -> None:
    response = staff.post(
        "/admin/engine/ratelimitdefinition/add/",
        {"name": "carrier", "limit": "10", "period": "00:01:00", "key": key, "on_limit": "delay"},
    )
    assert response.status_code == 200, "the form again, not a redirect"
    errors = response.context["adminform"].form.errors
    assert list(errors) == ["key"], errors
    assert not RateLimitDefinition.objects.exists()


def test_the_form_saves_a_good_key(staff: Client) -> None:
    response = staff.post(
        "/admin/engine/ratelimitdefinition/add/",
        {
            "name": "carrier",
            "limit": "10",
            "period": "00:01:00",
            "key": "{{ input.customer }}",
            "on_limit": "delay",
        },
    )
    assert response.status_code == 302
    assert RateLimitDefinition.objects.get().key == "{{ input.customer }}"


def test_a_broken_row_is_left_out_and_everything_else_still_answers(staff: Client) -> None:
    RateLimitDefinition.objects.create(
        name="carrier", limit=10, period="00:01:00", key=BROKEN_KEYS[0]
    )
    RateLimitDefinition.objects.create(name="partner", limit=3, period="00:00:10", key="")
    forget_definitions()
    for path in [
        "/admin/engine/ratelimitdefinition/",
        "/admin/engine/breakerdefinition/",
        "/resilience/",
        "/api/resilience/rate-limits",
        "/api/resilience/breakers",
    ]:
        assert staff.get(path).status_code == 200, path
    # The broken name keeps its declaration; a good definition still wins over its own.
    declared = RateLimitSpec(name="carrier", limit=2, period=1.0, key="{{ input.customer }}")
    assert effective_rate_limit(declared) == declared
    partner = effective_rate_limit(RateLimitSpec(name="partner", limit=99, period=60.0))
    assert (partner.limit, partner.period) == (3, 10.0)
    breaker = BreakerSpec(name="payments-api")
    assert effective_breaker(breaker) == breaker
    # The row can be corrected in the admin: its change form opens.
    row = RateLimitDefinition.objects.get(name="carrier")
    assert staff.get(f"/admin/engine/ratelimitdefinition/{row.pk}/change/").status_code == 200
