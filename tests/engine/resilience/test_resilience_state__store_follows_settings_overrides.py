"""The process's resilience store is chosen again when a setting it depends on changes (under
override_settings): a store chosen inside an override used to outlive it, so the test process
went on reading breaker states from the database, or under another Redis prefix, while the
workers wrote them to Redis, and a later breaker test saw no state at all.
"""

from typing import Any

import pytest
from django.conf import settings
from django.test import override_settings

from engine.resilience.state import DatabaseStore, RedisStore, state_store

pytestmark = pytest.mark.skipif(not settings.REDIS_URL, reason="needs REDIS_URL")


def test_a_store_chosen_inside_an_override_does_not_outlive_it() -> None:
    outside = state_store()
    assert isinstance(outside, RedisStore)
    with override_settings(STEPWISE_RESILIENCE_STATE="database"):
        assert isinstance(state_store(), DatabaseStore)
    again = state_store()
    assert isinstance(again, RedisStore) and again.prefix == outside.prefix


def test_another_channel_prefix_is_another_redis_namespace() -> None:
    layers: Any = {"default": {**settings.CHANNEL_LAYERS["default"], "CONFIG": {"prefix": "other"}}}
    with override_settings(CHANNEL_LAYERS=layers):
        inside = state_store()
        assert isinstance(inside, RedisStore) and inside.prefix == "other:resilience"
    assert state_store().prefix != "other:resilience"
