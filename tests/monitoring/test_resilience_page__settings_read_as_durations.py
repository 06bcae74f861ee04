"""The resilience page writes a breaker's window and cool-down and a rate limit's period as
durations people read, exact down to the millisecond a setting may be: a 1 ms window read
"0.0s" before."""

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client

from engine.models import BreakerDefinition, RateLimitDefinition
from engine.resilience.definitions import forget_definitions
from monitoring.durations import format_setting


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0.001, "1 ms"),
        (0.25, "250 ms"),
        (1.5, "1.5 s"),
        (30, "30 s"),
        (60, "1 min"),
        (125, "2 min 5 s"),
        (5400, "1 h 30 min"),
        (7 * 86_400, "7 d"),
    ],
)
def test_settings_are_written_exactly_and_short(seconds: float, text: str) -> None:
    assert format_setting(seconds) == text


@pytest.mark.django_db
def test_the_page_shows_a_millisecond_window_and_period(client: Client, make_user: Any) -> None:
    BreakerDefinition.objects.create(
        name="payments-api",
        failure_threshold=5,
        window=timedelta(milliseconds=1),
        cool_down=timedelta(minutes=1),
    )
    RateLimitDefinition.objects.create(name="carrier", limit=10, period=timedelta(milliseconds=1))
    forget_definitions()
    client.force_login(make_user("ada", "viewers"))
    page = client.get("/resilience/").content.decode()
    assert "5 failures in 1 ms open it for 1 min" in page
    assert "10 per 1 ms per key" in page
    assert "0.0s" not in page
