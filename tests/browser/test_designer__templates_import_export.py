"""In Chromium, a designer turns a workflow into a template on its settings page, makes a new
workflow from it (the parameter input appears through htmx), exports it and imports the file."""

import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from designer.drafts import create_workflow
from designer.models import Workflow
from tests.browser.canvas_helpers import collect_errors, log_in, open_canvas
from tests.engine.graph.graphs import graph

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

GREETER = graph(
    [("start", "trigger.manual"), ("greet", "flow.transform", {"output": "Hi ${who}"})],
    ["start>greet"],
)


def test_template_with_a_parameter_then_export_and_import(
    page: Page, daphne_server: str, make_user, tmp_path: Path
) -> None:
    errors = collect_errors(page)
    make_user("dora", "designers")
    create_workflow(slug="greeter", title="Greeter", user=None, graph=GREETER)
    log_in(page, daphne_server, "dora")

    # From the canvas's link bar to the settings: a template with one parameter.
    open_canvas(page, daphne_server, "greeter")
    page.get_by_role("navigation", name="Workflow").get_by_role("link", name="Settings").click()
    expect(page.get_by_role("heading", name="Settings of Greeter")).to_be_visible()
    page.get_by_label("This workflow is a template").check()
    page.get_by_label("Name of parameter 1").fill("who")
    page.get_by_label("Title of parameter 1").fill("Who to greet")
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator("ul.messages")).to_contain_text("Settings saved.")
    expect(page.get_by_label("Name of parameter 1")).to_have_value("who")

    # A new workflow from it: choosing the template brings its parameter's input.
    page.get_by_role("navigation", name="Workflow").get_by_role(
        "link", name="All workflows"
    ).click()
    page.get_by_label("Title", exact=True).fill("Hello Ada")
    page.get_by_label("Slug", exact=True).fill("hello-ada")
    expect(page.get_by_label("Who to greet")).to_have_count(0)
    page.get_by_label("Start from").select_option(label="template: Greeter")
    who = page.get_by_label("Who to greet")
    expect(who).to_be_visible()
    expect(who).to_have_attribute("required", "")
    who.fill("Ada")
    page.get_by_role("button", name="Create and open").click()
    page.wait_for_url(re.compile(r"/designer/hello-ada/$"))
    open_canvas(page, daphne_server, "hello-ada")
    made = Workflow.objects.get(slug="hello-ada")
    assert made.draft["nodes"][1]["config"]["output"] == "Hi Ada"

    # Export from the settings page, then import the file under another slug.
    page.goto(f"{daphne_server}/designer/greeter/settings")
    with page.expect_download() as download:
        page.get_by_role("navigation", name="Workflow").get_by_role(
            "link", name="Export JSON"
        ).click()
    exported = tmp_path / download.value.suggested_filename
    download.value.save_as(exported)
    assert exported.name == "greeter.stepwise.json"
    assert json.loads(exported.read_text())["parameters"][0]["name"] == "who"

    page.goto(f"{daphne_server}/designer/")
    page.get_by_label("Import an exported file").set_input_files(exported)
    page.get_by_label("as slug (optional)").fill("greeter-copy")
    page.get_by_role("button", name="Import", exact=True).click()
    page.wait_for_url(re.compile(r"/designer/greeter-copy/$"))
    expect(page.locator("ul.messages")).to_contain_text("Imported “Greeter” as greeter-copy.")
    expect(page.locator("html[data-canvas-ready='1']")).to_have_count(1)
    copy = Workflow.objects.get(slug="greeter-copy")
    assert copy.is_template and copy.draft == GREETER
    assert errors == [], errors
