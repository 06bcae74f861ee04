"""A body up to STEPWISE_MAX_BODY_BYTES is read: Django's own limit on what it reads into memory
(DATA_UPLOAD_MAX_MEMORY_SIZE, 2.5 MB by default) is the same number, so a 3 MB run input or form
post is no longer a bare "Bad Request (400)". Where Django's limits do refuse (a server without
config/body_limit.py in front, or a form of too many fields), the answer says so: 413 naming
`body` for too many bytes, 400 naming `body` for too many fields, JSON under /api/ and a page
elsewhere; nothing is created. Through a real Daphne, a 3 MB body is read and an 11 MB one gets
the 413, as JSON for the API and as a page for the designer's form."""

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from django.conf import settings
from django.test import Client, override_settings

from accounts.models import ApiToken
from engine.models import Run
from tests.http import logged_in_client
from tests.processes import RunningProcess, process_environment, run_python

MB = 1_000_000
API_START = "/api/workflows/api-call/runs"
FORM_START = "/designer/api-call/start"


def _operator(make_user: Any) -> dict[str, str]:
    _, raw = ApiToken.issue(make_user("olga", "operators"), "ci")
    return {"Authorization": f"Bearer {raw}"}


def _json_input(size: int) -> str:
    return json.dumps({"input": {"x": "a" * size}})


def test_django_reads_as_much_as_the_documented_limit(tmp_path: Any) -> None:
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE == settings.STEPWISE_MAX_BODY_BYTES == 10 * MB
    script = "import django; django.setup(); from django.conf import settings as s; "
    script += "print(s.DATA_UPLOAD_MAX_MEMORY_SIZE)"
    environment = process_environment(STEPWISE_VAR_DIR=str(tmp_path), STEPWISE_MAX_BODY_BYTES="3")
    shown = run_python(["-c", script], environment)
    assert (shown.returncode, shown.stdout.strip()) == (0, "3"), shown.stderr


@pytest.mark.django_db
def test_a_3_mb_run_input_is_read(client: Client, make_user: Any) -> None:
    answer = client.post(
        API_START,
        _json_input(3 * MB),
        content_type="application/json",
        headers=_operator(make_user),
    )
    assert answer.status_code == 201, answer.content[:300]
    assert len(Run.objects.get().input["x"]) == 3 * MB


@pytest.mark.django_db
def test_a_3_mb_form_post_is_read_and_answered_by_the_form(client: Client, make_user: Any) -> None:
    client.force_login(make_user("otto", "operators"))
    too_long = client.post(FORM_START, {"input": json.dumps({"x": "a" * 3 * MB})})
    assert too_long.status_code == 422
    assert "must be at most 100,000 characters" in too_long.content.decode()
    beside = client.post(FORM_START, {"input": '{"x": 1}', "note": "a" * 3 * MB})
    assert beside.status_code == 302
    assert Run.objects.get().input == {"x": 1}


@pytest.mark.django_db
@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000)
def test_over_django_s_limit_the_api_answers_the_documented_413(
    client: Client, make_user: Any
) -> None:
    answer = client.post(
        API_START, _json_input(2000), content_type="application/json", headers=_operator(make_user)
    )
    assert answer.status_code == 413
    assert answer["Content-Type"] == "application/json"
    assert answer.json() == {"detail": "body: larger than the limit of 1000 bytes", "field": "body"}
    assert not Run.objects.exists()


@pytest.mark.django_db
@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000)
def test_over_django_s_limit_a_page_answers_a_413_page(client: Client, make_user: Any) -> None:
    client.force_login(make_user("otto", "operators"))
    answer = client.post(FORM_START, {"input": json.dumps({"x": "a" * 2000})})
    assert answer.status_code == 413
    assert answer["Content-Type"].startswith("text/html")
    page = answer.content.decode()
    assert "Too large to accept" in page
    assert "body: larger than the limit of 1000 bytes" in page
    assert not Run.objects.exists()


@pytest.mark.django_db
def test_a_form_of_too_many_fields_is_a_400_naming_body(client: Client, make_user: Any) -> None:
    client.force_login(make_user("otto", "operators"))
    fields = {f"f{n}": "1" for n in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1)}
    answer = client.post(FORM_START, {"input": '{"x": 1}', **fields})
    assert answer.status_code == 400
    assert "body: more than 1000 fields" in answer.content.decode()
    assert "<h1>Bad Request (400)</h1>" not in answer.content.decode()
    assert not Run.objects.exists()


def _chunks(size: int) -> Iterator[bytes]:
    """A body of `size` bytes of one urlencoded field, handed over a megabyte at a time."""
    yield b"input="
    left = size - len(b"input=")
    while left > 0:
        yield b"a" * min(MB, left)
        left -= MB


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_through_daphne_3_mb_is_read_and_11_mb_refused(
    daphne: tuple[str, RunningProcess], make_user: Any
) -> None:
    served = daphne[0]
    make_user("otto", "operators")
    operator = {**_operator(make_user), "Content-Type": "application/json"}
    read = httpx.post(served + API_START, content=_json_input(3 * MB), headers=operator, timeout=60)
    assert read.status_code == 201, read.text[:300]
    refused = httpx.post(
        served + API_START, content=_json_input(11 * MB), headers=operator, timeout=60
    )
    assert refused.status_code == 413
    assert refused.json() == {
        "detail": "body: larger than the limit of 10000000 bytes",
        "field": "body",
    }
    assert Run.objects.count() == 1

    browser = logged_in_client(served, "otto", "correct horse battery")
    try:
        form = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-CSRFToken": browser.cookies["csrftoken"],
            "Referer": served + FORM_START,
        }
        answered = browser.post(FORM_START, content=_chunks(3 * MB), headers=form, timeout=60)
        assert answered.status_code == 422  # the form's own refusal of a 3 MB input
        assert "must be at most 100,000 characters" in answered.text
        form["Content-Length"] = str(11 * MB)
        too_big = browser.post(FORM_START, content=_chunks(11 * MB), headers=form, timeout=60)
        assert too_big.status_code == 413
        assert too_big.headers["Content-Type"].startswith("text/html")
        assert "body: larger than the limit of 10000000 bytes" in too_big.text
    finally:
        browser.close()
    assert Run.objects.count() == 1
