"""JSON typed into the admin is read as the database stores it: NaN, Infinity (1e999 reads as
Infinity) and text nested too deep to read are refused on their field, the text kept as typed,
and nothing is saved; never a 500. Every admin with a typed JSON field reads it the same way."""

from typing import Any

import pytest
from django import forms
from django.contrib import admin
from django.test import Client, RequestFactory
from django.utils.html import escape

from engine.admin.json_input import JSONInputField
from engine.models import Schedule
from tests.engine.admin.schedule_forms import schedule_form

pytestmark = pytest.mark.django_db

FORM = schedule_form(name="Nightly", workflow="test-sequence", cron="0 3 * * *", timezone="UTC")
DEEP = "[" * 5000 + "]" * 5000


@pytest.fixture
def root(client: Client, make_user: Any) -> Client:
    client.force_login(make_user("root", is_staff=True, is_superuser=True))
    return client


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"steps": NaN}', "NaN is not JSON: write a number or null"),
        ('{"steps": Infinity}', "Infinity is not JSON: write a number or null"),
        ('{"steps": -Infinity}', "-Infinity is not JSON: write a number or null"),
        (
            '{"steps": 1e999}',
            "1e999 is too large a number for JSON (it would be read as Infinity)",
        ),
        (DEEP, "nested too deeply to read"),
        ("[" * 5000, "nested too deeply to read"),
    ],
)
def test_a_schedules_input_that_is_not_json_is_refused_on_its_field(
    root: Client, text: str, message: str
) -> None:
    answer = root.post("/admin/engine/schedule/add/", {**FORM, "input": text})
    assert answer.status_code == 200, answer.content.decode()[-2000:]
    form = answer.context["adminform"].form
    assert dict(form.errors) == {"input": [message]}
    assert escape(text[:40]) in answer.content.decode()  # shown again as typed
    assert not Schedule.objects.exists()


def test_ordinary_json_still_saves(root: Client) -> None:
    answer = root.post("/admin/engine/schedule/add/", {**FORM, "input": '{"steps": 2.5e3}'})
    assert answer.status_code == 302, answer.content.decode()[-2000:]
    assert Schedule.objects.get().input == {"steps": 2500.0}


def test_every_admin_form_with_a_typed_json_field_reads_it_strictly(make_user: Any) -> None:
    request = RequestFactory().get("/")
    request.user = make_user("root", is_staff=True, is_superuser=True)
    found = []
    for model, model_admin in admin.site._registry.items():
        if not model_admin.has_add_permission(request):
            continue
        form = model_admin.get_form(request)
        for name, field in form.base_fields.items():
            if isinstance(field, forms.JSONField):
                found.append(f"{model._meta.label}.{name}")
                assert isinstance(field, JSONInputField), f"{model._meta.label}.{name}"
    assert "engine.Schedule.input" in found
