"""The admin's rollup lists show each row's shard: a busy minute is a few rows, which add up."""

from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from engine.models import RunRollup, StepRollup
from engine.runtime.rollups import minute_of

pytestmark = pytest.mark.django_db


def test_a_minute_split_over_shards_lists_each_row_with_its_shard(
    client: Client, make_user: Any
) -> None:
    client.force_login(make_user("root", is_staff=True, is_superuser=True))
    minute = minute_of(timezone.now())
    for shard, started in [(1, 3), (6, 4)]:
        RunRollup.objects.create(minute=minute, workflow="orders", shard=shard, started=started)
        StepRollup.objects.create(
            minute=minute, workflow="orders", step="charge", shard=shard, completed=started
        )
    for path in ("/admin/engine/runrollup/", "/admin/engine/steprollup/"):
        page = client.get(path)
        assert page.status_code == 200
        html = page.content.decode()
        assert "column-shard" in html
        assert '<td class="field-shard">1</td>' in html
        assert '<td class="field-shard">6</td>' in html
