"""The canvas demos are valid graphs laid out left to right, and `load_demo` publishes each
once: loading again leaves them (and any edit made to them) alone."""

from io import StringIO

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command

from designer.demo_graphs import DEMO_GRAPHS, REVIEWERS, VP_USER, DemoGraph, load_demo_graphs
from designer.drafts import save_draft, world
from designer.models import Workflow
from engine.core import get_workflow
from engine.core.definitions import get_action
from engine.graph.validate import validate_graph
from engine.models import GraphVersion

pytestmark = pytest.mark.django_db

SLUGS = [demo.slug for demo in DEMO_GRAPHS]


@pytest.fixture
def demo_people() -> None:
    """The users and groups the demos name (without accounts.demo's slow passwords)."""
    Group.objects.get_or_create(name="approvers")
    for username in {VP_USER, *REVIEWERS}:
        User.objects.create(username=username)


def test_the_demos_are_the_seed_patterns_under_their_own_slugs() -> None:
    assert SLUGS == [
        "canvas-customer-onboarding",
        "canvas-lead-enrichment",
        "canvas-order-fulfilment",
        "canvas-email-campaign",
        "canvas-payment",
        "canvas-expense-approval",
        "canvas-document-review",
        "canvas-partner-bulkhead",
    ]
    assert all(get_workflow(slug) is None for slug in SLUGS)


@pytest.mark.usefixtures("demo_people")
@pytest.mark.parametrize("demo", DEMO_GRAPHS, ids=SLUGS)
def test_every_demo_validates_without_a_single_problem(demo: DemoGraph) -> None:
    assert validate_graph(demo.graph, world()) == []


@pytest.mark.parametrize("demo", DEMO_GRAPHS, ids=SLUGS)
def test_every_demo_is_labelled_and_laid_out_left_to_right(demo: DemoGraph) -> None:
    graph = demo.graph
    nodes = {node["id"]: node for node in graph["nodes"]}
    start = graph["nodes"][0]
    assert start["type"] == "trigger.manual"
    assert start["config"]["input_schema"]["type"] == "object"
    assert demo.description and demo.title.endswith("(canvas)")
    for node in nodes.values():
        assert node["label"] and node["label"] != node["id"], node["id"]
        if node["type"] == "action.python":
            assert get_action(node["config"]["action"]) is not None, node["config"]["action"]
            assert node["config"]["action"].startswith("demo.")
    positions = [(node["position"]["x"], node["position"]["y"]) for node in nodes.values()]
    assert len(set(positions)) == len(positions), "two nodes on the same spot"
    for edge in graph["edges"]:
        source, target = nodes[edge["source"]], nodes[edge["target"]]
        if target["type"] == "logic.loop":
            continue  # the way back to the loop for its next item
        assert target["position"]["x"] > source["position"]["x"], edge["id"]


def test_load_demo_publishes_each_demo_once_and_leaves_edits_alone(settings) -> None:
    settings.STEPWISE_DEMO = True  # the demo users, who author the demos
    out = StringIO()
    call_command("load_demo", stdout=out)
    printed = out.getvalue()
    assert "Demo workflows (canvas)" in printed
    for slug in SLUGS:
        assert f"{slug} " in printed
    versions = GraphVersion.objects.filter(workflow__in=SLUGS)
    assert sorted(versions.values_list("workflow", "number")) == sorted((s, 1) for s in SLUGS)
    assert {version.author.username for version in versions if version.author} == {"admin"}
    # The expense approval shows the canvas's run timeout: a week, kept by its version too.
    expense = versions.get(workflow="canvas-expense-approval")
    assert expense.timeout_seconds == Workflow.objects.get(slug=expense.workflow).timeout_seconds
    assert expense.timeout_seconds == 7 * 24 * 3600

    payment = Workflow.objects.get(slug="canvas-payment")
    edited = {**payment.draft, "nodes": payment.draft["nodes"][:1], "edges": []}
    save_draft(payment, edited, payment.revision, None)

    # The command again would only add the demo users' slow password checks.
    assert load_demo_graphs(None) == [(slug, False) for slug in SLUGS]
    assert versions.count() == len(SLUGS)
    assert Workflow.objects.get(slug="canvas-payment").draft == edited
