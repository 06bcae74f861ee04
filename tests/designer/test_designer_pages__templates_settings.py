"""Designer pages: a template's parameters on the new-workflow form, the settings page (title,
template, parameters, delete) and importing a file; every refusal names the field and changes
nothing."""

import json
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import resolve

from designer.drafts import create_workflow, export_document, publish
from designer.models import Workflow
from tests.engine.graph.graphs import graph

pytestmark = pytest.mark.django_db

GREETER = graph(
    [
        ("start", "trigger.manual"),
        ("greet", "flow.transform", {"output": "${greeting}, ${who}"}),
    ],
    ["start>greet"],
)
PARAMETERS = [
    {"name": "who", "title": "Who to greet"},
    {"name": "greeting", "title": "Greeting", "default": "Hello"},
]


@pytest.fixture
def designer(make_user: Any) -> Client:
    client = Client()
    client.force_login(make_user("dora", "designers"))
    return client


@pytest.fixture
def greeter() -> Workflow:
    workflow, _ = create_workflow(
        slug="greeter",
        title="Greeter",
        user=None,
        description="Greets ${who}",
        graph=GREETER,
        is_template=True,
        parameters=PARAMETERS,
    )
    return workflow


def test_the_fields_fragment_lists_the_template_parameters_with_defaults(
    designer: Client, greeter: Workflow
) -> None:
    fragment = designer.get(
        "/designer/template-fields", {"template": "greeter"}, headers={"HX-Request": "true"}
    )
    assert fragment.status_code == 200
    html = fragment.content.decode()
    assert "<html" not in html and "Parameters of Greeter" in html
    assert '<label for="param-who">Who to greet <span class="required">(required)</span>' in html
    assert 'name="param.who" value="" required' in html
    assert 'name="param.greeting" value="Hello" aria-describedby' in html

    empty = designer.get("/designer/template-fields", {"template": ""})
    assert empty.status_code == 200 and "param." not in empty.content.decode()
    unknown = designer.get("/designer/template-fields", {"template": "nope"})
    assert unknown.status_code == 404 and "No template called" in unknown.content.decode()


def test_the_index_select_asks_for_the_fields_with_htmx(
    designer: Client, greeter: Workflow
) -> None:
    page = designer.get("/designer/").content.decode()
    assert 'hx-get="/designer/template-fields"' in page and 'hx-target="#template-fields"' in page
    assert '<option value="greeter">template: Greeter</option>' in page
    assert 'aria-label="Settings of Greeter"' in page


def test_parameter_values_are_substituted_into_the_new_draft(
    designer: Client, greeter: Workflow
) -> None:
    made = designer.post(
        "/designer/new",
        {"slug": "hello-ada", "title": "Hello Ada", "template": "greeter", "param.who": "Ada"},
    )
    assert made.status_code == 302 and made["Location"] == "/designer/hello-ada/"
    workflow = Workflow.objects.get(slug="hello-ada")
    assert workflow.draft["nodes"][1]["config"]["output"] == "Hello, Ada"
    assert workflow.description == "Greets Ada" and not workflow.is_template

    designer.post(
        "/designer/new",
        {
            "slug": "hi-bob",
            "title": "Hi Bob",
            "template": "greeter",
            "param.who": "Bob",
            "param.greeting": "Hi",
            "param.stale": "from another template's fields",
        },
    )
    assert Workflow.objects.get(slug="hi-bob").draft["nodes"][1]["config"]["output"] == "Hi, Bob"


def test_a_missing_required_value_is_named_and_creates_nothing(
    designer: Client, greeter: Workflow
) -> None:
    # What a browser without JavaScript posts: the template chosen, its inputs never shown.
    refused = designer.post(
        "/designer/new", {"slug": "nobody", "title": "Nobody", "template": "greeter"}
    )
    assert refused.status_code == 422
    html = refused.content.decode()
    assert "parameters.who: a value is required" in html
    assert 'name="param.who" value="" required aria-invalid="true"' in html
    assert '<option value="greeter" selected>' in html and 'value="Nobody"' in html

    # Blank is not a value; what the user typed elsewhere is kept.
    again = designer.post(
        "/designer/new",
        {
            "slug": "nobody",
            "title": "Nobody",
            "template": "greeter",
            "param.who": "  ",
            "param.greeting": "Howdy",
        },
    )
    assert again.status_code == 422
    assert 'name="param.greeting" value="Howdy"' in again.content.decode()
    assert not Workflow.objects.filter(slug="nobody").exists()


def _settings_form(workflow: Workflow, rows: list[tuple[str, str, str]], **fields: str) -> dict:
    form = {
        "title": workflow.title,
        "description": workflow.description,
        "parameter_rows": str(len(rows)),
        **fields,
    }
    for index, (name, title, default) in enumerate(rows):
        form |= {
            f"parameters-{index}-name": name,
            f"parameters-{index}-title": title,
            f"parameters-{index}-default": default,
        }
    return form


def test_settings_save_title_template_and_parameters(designer: Client) -> None:
    workflow, _ = create_workflow(slug="plain", title="Plain", user=None, graph=GREETER)
    page = designer.get("/designer/plain/settings")
    assert page.status_code == 200
    assert 'name="parameters-0-name" value=""' in page.content.decode()

    form = _settings_form(
        workflow,
        [("who", "Who to greet", ""), ("greeting", "", "Hello"), ("", "", "")],
        title="Greeting machine",
        description="Says ${greeting}",
        is_template="1",
    )
    saved = designer.post("/designer/plain/settings", form)
    assert saved.status_code == 302 and saved["Location"] == "/designer/plain/settings"
    workflow.refresh_from_db()
    assert workflow.title == "Greeting machine" and workflow.is_template
    assert workflow.description == "Says ${greeting}"
    assert workflow.parameters == [
        {"name": "who", "title": "Who to greet", "default": None},
        {"name": "greeting", "title": "greeting", "default": "Hello"},
    ]
    assert workflow.draft == GREETER
    assert "Settings saved." in designer.get(saved["Location"]).content.decode()

    # A ticked row goes; an unticked checkbox turns the template off.
    form = _settings_form(workflow, [("who", "Who", ""), ("greeting", "greeting", "Hello")])
    form["parameters-1-remove"] = "1"
    assert designer.post("/designer/plain/settings", form).status_code == 302
    workflow.refresh_from_db()
    assert not workflow.is_template
    assert workflow.parameters == [{"name": "who", "title": "Who", "default": None}]


def test_defaults_left_as_shown_keep_their_stored_values(designer: Client) -> None:
    stored = [
        {"name": "count", "title": "Count", "default": 3},
        {"name": "suffix", "title": "Suffix", "default": ""},
    ]
    workflow, _ = create_workflow(
        slug="typed", title="Typed", user=None, is_template=True, parameters=stored
    )
    page = designer.get("/designer/typed/settings").content.decode()
    assert 'name="parameters-0-default" value="3"' in page
    rows = [("count", "Count", "3"), ("suffix", "Suffix", "")]
    form = _settings_form(workflow, rows, is_template="1")
    assert designer.post("/designer/typed/settings", form).status_code == 302
    workflow.refresh_from_db()
    assert workflow.parameters == stored


def test_a_bad_parameter_is_named_by_its_row_and_nothing_changes(
    designer: Client, greeter: Workflow
) -> None:
    before = Workflow.objects.values().get(slug="greeter")
    rows = [("who", "Who", ""), ("two words", "Bad", ""), ("", "", "")]
    refused = designer.post(
        "/designer/greeter/settings", _settings_form(greeter, rows, title="Renamed")
    )
    assert refused.status_code == 422
    html = refused.content.decode()
    assert "parameters[1].name: a name of letters, digits and _" in html
    assert 'name="parameters-1-name" value="two words" maxlength="64" aria-invalid="true"' in html
    assert 'value="Renamed"' in html
    assert Workflow.objects.values().get(slug="greeter") == before

    # Rows removed above a bad one do not shift the row the error names.
    rows = [("gone", "", ""), ("who", "", ""), ("who", "", "")]
    form = _settings_form(greeter, rows, **{"parameters-0-remove": "1"})
    repeated = designer.post("/designer/greeter/settings", form)
    assert repeated.status_code == 422
    assert "parameters[2].name: &#x27;who&#x27; repeats" in repeated.content.decode()

    forged = designer.post(
        "/designer/greeter/settings", _settings_form(greeter, [], parameter_rows="1000000")
    )
    assert forged.status_code == 422 and "parameters: at most 500 rows" in forged.content.decode()

    no_title = designer.post("/designer/greeter/settings", _settings_form(greeter, [], title=" "))
    assert no_title.status_code == 422 and "title: 1 to 200 characters" in no_title.content.decode()
    assert Workflow.objects.values().get(slug="greeter") == before


def test_delete_needs_the_slug_typed_and_says_so_on_the_index(
    designer: Client, greeter: Workflow
) -> None:
    refused = designer.post("/designer/greeter/delete", {"confirm": "greeter-typo"})
    assert refused.status_code == 422
    assert "confirm: type greeter to delete this workflow" in refused.content.decode()
    assert Workflow.objects.filter(slug="greeter").exists()

    deleted = designer.post("/designer/greeter/delete", {"confirm": "greeter"})
    assert deleted.status_code == 302 and deleted["Location"] == "/designer/"
    assert not Workflow.objects.filter(slug="greeter").exists()
    index = designer.get("/designer/").content.decode()
    assert "Deleted “Greeter” (greeter)." in index


def test_only_editors_reach_the_settings(make_user: Any, greeter: Workflow) -> None:
    viewer = Client()
    viewer.force_login(make_user("vera", "viewers"))
    form = _settings_form(greeter, [], title="Hijacked")
    assert viewer.post("/designer/greeter/settings", form).status_code == 403
    assert viewer.get("/designer/greeter/settings").status_code == 403
    assert viewer.post("/designer/greeter/delete", {"confirm": "greeter"}).status_code == 403
    assert viewer.get("/designer/template-fields", {"template": "greeter"}).status_code == 403
    assert Workflow.objects.get(slug="greeter").title == "Greeter"
    # The canvas offers viewers the export, not the settings.
    canvas = viewer.get("/designer/greeter/").content.decode()
    assert 'href="/api/workflows/greeter/export" download>Export JSON' in canvas
    assert "/designer/greeter/settings" not in canvas


def test_the_canvas_links_to_its_settings_and_the_routes_do_not_clash(
    designer: Client, greeter: Workflow
) -> None:
    canvas = designer.get("/designer/greeter/").content.decode()
    assert '<a href="/designer/greeter/settings">Settings</a>' in canvas
    assert '<a href="/designer/">← All workflows</a>' in canvas
    # Any word is a slug: a workflow called "settings" keeps its canvas and its settings.
    create_workflow(slug="settings", title="Odd name", user=None)
    assert resolve("/designer/settings/").url_name == "designer-canvas"
    assert resolve("/designer/settings/settings").url_name == "designer-settings"
    assert resolve("/designer/greeter/settings").kwargs == {"slug": "greeter"}
    assert b'id="canvas-boot"' in designer.get("/designer/settings/").content
    assert b"Settings of Odd name" in designer.get("/designer/settings/settings").content
    assert designer.get("/designer/nope/settings").status_code == 404
    assert designer.get("/designer/api-call/settings").status_code == 404


def _upload(content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile("export.json", content, content_type="application/json")


def test_importing_a_bad_file_explains_and_creates_nothing(
    designer: Client, greeter: Workflow
) -> None:
    count = Workflow.objects.count()
    not_json = designer.post("/designer/import", {"document": _upload(b"nodes: [oops")})
    assert not_json.status_code == 422
    assert "Nothing was imported. document: not JSON" in not_json.content.decode()

    document = export_document(greeter)
    broken = {**document, "graph": {"nodes": [{"id": "x"}], "edges": []}}
    bad_graph = designer.post(
        "/designer/import", {"document": _upload(json.dumps(broken).encode()), "slug": "copy"}
    )
    assert bad_graph.status_code == 422
    html = bad_graph.content.decode()
    assert "Nothing was imported. document.graph.nodes" in html and 'value="copy"' in html

    other = designer.post("/designer/import", {"document": _upload(b'{"format": "zip"}')})
    assert "document.format: not a stepwise-workflow export" in other.content.decode()
    assert designer.post("/designer/import", {}).status_code == 422
    assert Workflow.objects.count() == count

    good = designer.post(
        "/designer/import", {"document": _upload(json.dumps(document).encode()), "slug": "copy"}
    )
    assert good.status_code == 302 and good["Location"] == "/designer/copy/"
    copy = Workflow.objects.get(slug="copy")
    assert copy.draft == GREETER and copy.is_template and copy.parameters == greeter.parameters
    assert "Imported “Greeter” as copy." in designer.get(good["Location"]).content.decode()


def test_undo_on_cancel_is_a_setting_published_exported_and_imported(designer: Client) -> None:
    """The checkbox is ticked for a new workflow; unticked, publishing copies it into the
    version the engine runs, and an export carries it to the workflow it is imported as."""
    workflow, _ = create_workflow(slug="undoer", title="Undoer", user=None, graph=GREETER)
    page = designer.get("/designer/undoer/settings").content.decode()
    assert 'name="compensate_on_cancel" value="1" checked' in page
    assert workflow.compensate_on_cancel

    saved = designer.post("/designer/undoer/settings", _settings_form(workflow, []))
    assert saved.status_code == 302
    workflow.refresh_from_db()
    assert workflow.compensate_on_cancel is False
    assert publish(workflow, None).compensate_on_cancel is False

    document = export_document(workflow)
    assert document["compensate_on_cancel"] is False
    imported = designer.post(
        "/designer/import", {"document": _upload(json.dumps(document).encode()), "slug": "again"}
    )
    assert imported.status_code == 302
    assert Workflow.objects.get(slug="again").compensate_on_cancel is False
