"""The email node's HTML body inserts every value HTML-escaped, in text and in attributes, a
lone `{{ expr }}`, maps and lists and strings written in an expression too, while the
template's own markup stays; the text body is left as it is."""

from collections.abc import Iterator
from typing import Any

import pytest
from django.core import mail
from django.test import override_settings

from engine.graph.nodes import email
from engine.graph.nodes.base import NodeContext

LOCMEM = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
HOSTILE = {
    "name": '<script>alert("x")</script>',
    "link": '" onmouseover="alert(1)',
    "tags": {"onmouseover=alert(1)//": "<b>"},
}


@pytest.fixture(autouse=True)
def outbox() -> Iterator[list[Any]]:
    with override_settings(MAILERS=LOCMEM):
        mail.outbox = []
        yield mail.outbox


def html_of(template: str, outbox: list[Any]) -> str:
    config = {"to": ["ada@example.com"], "subject": "Hi", "body": "{{ input.name }}"}
    context = NodeContext(
        node_id="notify",
        config={**config, "html": template},
        scope={"input": HOSTILE},
        idempotency_key="stepwise:1:1:notify",
    )
    email.execute(context)
    message = outbox.pop()
    assert message.body == HOSTILE["name"]  # plain text is not HTML: nothing to escape
    return str(message.alternatives[0].content)


def test_values_are_escaped_and_markup_is_kept(outbox: list[Any]) -> None:
    rendered = html_of(
        '<p title="{{ input.tags }}">Hello <b>{{ input.name }}</b>, '
        '<a href="{{ input.link }}">see</a> {{ size(input.name) > 3 ? "<i>long</i>" : "" }}</p>',
        outbox,
    )
    assert rendered == (
        '<p title="{&quot;onmouseover=alert(1)//&quot;:&quot;&lt;b&gt;&quot;}">Hello '
        "<b>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;</b>, "
        '<a href="&quot; onmouseover=&quot;alert(1)">see</a> &lt;i&gt;long&lt;/i&gt;</p>'
    )


def test_a_lone_value_is_escaped_too(outbox: list[Any]) -> None:
    assert (
        html_of("{{ input.name }}", outbox) == "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"
    )
    assert html_of("{{ 1 + 2 }}", outbox) == "3"
