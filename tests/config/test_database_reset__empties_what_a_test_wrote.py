"""The suite's quick reset between transactional tests (tests.database_reset) empties every
table a test wrote to, rows that reference each other included, and keeps the content types
and permissions that migrations wrote."""

from typing import Any

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.contrib.contenttypes.models import ContentType

from engine.models import Run, StepRecord
from engine.runtime.runner import advance
from engine.runtime.runs import start_run
from tests.database_reset import empty_written_tables

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("queue_to_ourselves", "side_effects_table"),
]


def test_the_tables_written_are_emptied_and_the_kept_ones_kept(make_user: Any) -> None:
    make_user("ray", "designers")
    run = start_run("test-sequence", {"steps": 2})
    advance(run.pk)  # a run and its steps: rows that reference one another
    permissions, content_types = Permission.objects.count(), ContentType.objects.count()
    assert StepRecord.objects.filter(run=run).exists() and permissions and content_types

    empty_written_tables("default")

    assert not Run.objects.exists() and not StepRecord.objects.exists()
    assert not User.objects.exists() and not Group.objects.exists()
    assert Permission.objects.count() == permissions
    assert ContentType.objects.count() == content_types
