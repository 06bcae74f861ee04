"""Refused pages render our 403 page with the reason and whom to ask; missing pages our 404;
a server error our 500 page without the database; 403 and 404 are logged as one line."""

import logging
import re
from typing import Any

import pytest
from django.test import Client, override_settings

from accounts.errors import server_error

pytestmark = pytest.mark.django_db


def text(response: Any) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def test_a_viewer_refused_an_editing_page_sees_the_reason_and_the_admins(
    client: Client, make_user: Any
) -> None:
    make_user("root", is_superuser=True, first_name="Rita", last_name="Root", email="r@x.test")
    client.force_login(make_user("vic", "viewers"))
    page = client.get("/designer/template-fields")
    assert page.status_code == 403
    body = text(page)
    assert "Your roles do not allow: edit workflows." in body
    assert 'ask <span class="contact">Rita Root &lt;r@x.test&gt;</span>' in body
    assert 'class="topbar"' in body  # styled like every page, not a bare "403 Forbidden"


def test_a_user_without_a_role_is_told_to_ask_the_configured_contact(
    client: Client, make_user: Any
) -> None:
    client.force_login(make_user("nobody"))
    with override_settings(STEPWISE_ADMIN_CONTACT="the IT desk (it@example.test)"):
        page = client.get("/runs/")
    assert page.status_code == 403
    body = text(page)
    assert "Your account has no role yet: ask an administrator for one" in body
    assert "the IT desk (it@example.test)" in body


def test_a_stale_form_is_a_styled_403_that_says_so(make_user: Any) -> None:
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(make_user("dana", "designers"))
    page = strict.post("/designer/new", {"slug": "x", "title": "X"})
    assert page.status_code == 403
    assert "security token was missing or out of date" in text(page)


def test_a_missing_page_is_our_404(client: Client, make_user: Any) -> None:
    client.force_login(make_user("vic", "viewers"))
    page = client.get("/no/such/page")
    assert page.status_code == 404
    body = text(page)
    assert "There is nothing at <code>/no/such/page</code>" in body and 'class="topbar"' in body


def test_the_500_page_needs_neither_the_request_nor_the_database(
    django_assert_num_queries: Any,
) -> None:
    with django_assert_num_queries(0):
        page = server_error(None)  # type: ignore[arg-type]
    assert page.status_code == 500
    assert "Something went wrong" in page.content.decode()
    assert "stepwise.css" in page.content.decode()


def test_refusals_and_missing_pages_log_one_line_without_a_traceback(
    client: Client, make_user: Any, caplog: pytest.LogCaptureFixture
) -> None:
    client.force_login(make_user("vic", "viewers"))
    with caplog.at_level(logging.WARNING, logger="django.request"):
        assert client.get("/designer/template-fields").status_code == 403
        assert client.get("/no/such/page").status_code == 404
    records = [record for record in caplog.records if record.name == "django.request"]
    assert [record.status_code for record in records] == [403, 404]  # type: ignore[attr-defined]
    assert all(record.exc_info is None for record in records)
    assert len(caplog.text.strip().splitlines()) == 2  # one line each, no traceback
