"""For a reader without read_sensitive, guarded_query learns which workflows mark input
sensitive once per set of published versions: a repeated search costs one query however many
graph versions there are, and a version published since that marks input sensitive is
honoured by the very next search (a value filter on its workflow is refused, naming it)."""

from typing import Any

import pytest
from django.test import Client

from accounts.models import ApiToken
from engine.graph.publishing import publish_graph
from engine.runtime.masking import guarded_query
from engine.runtime.run_search import RunQuery
from tests.engine.graph.graphs import graph

pytestmark = pytest.mark.django_db


def _document(email_sensitive: bool) -> dict[str, Any]:
    email: dict[str, Any] = {"type": "string"}
    if email_sensitive:
        email["x-sensitive"] = True
    schema = {"type": "object", "properties": {"email": email}}
    return graph(
        [("start", "trigger.manual", {"input_schema": schema}), ("done", "flow.end")],
        ["start>done"],
    )


def test_a_repeated_search_reads_the_versions_once(
    make_user: Any, django_assert_num_queries: Any
) -> None:
    viewer = make_user("vera", "viewers")
    for number in range(5):
        publish_graph("plain-mail", f"Plain mail {number}", _document(email_sensitive=False))
    publish_graph("secret-mail", "Secret mail", _document(email_sensitive=True))
    searched = RunQuery(search="ada@example.com")
    first = guarded_query(searched, viewer)
    assert "secret-mail" in first.search_skips
    assert "plain-mail" not in first.search_skips
    # One aggregate says the versions are those it read before: no schema is resolved again.
    with django_assert_num_queries(1):
        assert guarded_query(searched, viewer) == first


def test_a_version_published_since_is_honoured_by_the_next_search(
    client: Client, make_user: Any
) -> None:
    _, raw = ApiToken.issue(make_user("vera", "viewers"), "ci")
    viewer = {"Authorization": f"Bearer {raw}"}
    publish_graph("signup", "Sign-up", _document(email_sensitive=False))
    asking = "/api/runs?workflow=signup&match=input.email%20%3D%20ada%40example.com"
    assert client.get(asking, headers=viewer).status_code == 200
    assert client.get("/api/runs?q=ada", headers=viewer).status_code == 200  # learnt, kept

    publish_graph("signup", "Sign-up", _document(email_sensitive=True))
    refused = client.get(asking, headers=viewer)
    assert refused.status_code == 422
    assert refused.json()["field"] == "match"
    assert refused.json()["detail"].startswith("match: workflow 'signup'")
