"""The admin's tests act as a superuser."""

from typing import Any

import pytest
from django.test import Client


@pytest.fixture
def staff(client: Client, make_user: Any) -> Client:
    client.force_login(make_user("root", is_staff=True, is_superuser=True))
    return client
