"""Django's `{# … #}` comment ends on its own line: one spread over several lines is not a
comment, and its text reached the inbox page as it was written. Longer notes use
`{% comment %}`. Every template is read; the inbox is rendered too."""

from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

TEMPLATE_DIRS = [Path(folder) for folder in settings.TEMPLATES[0]["DIRS"]]


def open_comments() -> list[str]:
    found = []
    for folder in TEMPLATE_DIRS:
        for path in sorted(folder.rglob("*.html")):
            for number, line in enumerate(path.read_text().splitlines(), start=1):
                if "{#" in line and "#}" not in line.split("{#", 1)[1]:
                    found.append(f"{path.relative_to(folder)}:{number}")
    return found


def test_no_template_opens_a_comment_it_does_not_close_on_the_same_line() -> None:
    assert TEMPLATE_DIRS and all(folder.is_dir() for folder in TEMPLATE_DIRS)
    assert open_comments() == []


@pytest.mark.django_db
def test_the_inbox_shows_no_template_syntax(client: Client, make_user: Any) -> None:
    client.force_login(make_user("ada", "approvers"))
    page = client.get("/inbox/").content.decode()
    assert "Inbox" in page
    assert "{#" not in page and "#}" not in page
