"""The email node renders and validates its addresses, sends through Django's default mailer
with a Message-ID that is the same on every retry, and sorts mail server failures."""

import socket
from collections.abc import Iterator
from typing import Any

import pytest
from django.core import mail
from django.test import override_settings

from engine.core.errors import NonRetryableError
from engine.graph.nodes import email
from engine.graph.nodes.base import CheckContext, NodeContext

KEY = "stepwise:12:4:notify"
ORDER = {
    "id": 1042,
    "customer": {"name": "Ada Lovelace", "email": "ada@example.com"},
    "watchers": ["ops@example.com", "Billing <billing@example.com>"],
}
LOCMEM = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}


@pytest.fixture(autouse=True)
def outbox() -> Iterator[list[Any]]:
    with override_settings(MAILERS=LOCMEM, DEFAULT_FROM_EMAIL="Stepwise <flows@shop.example>"):
        mail.outbox = []
        yield mail.outbox


def send(config: dict[str, Any], key: str = KEY) -> Any:
    context = NodeContext(
        node_id="notify", config=config, scope={"input": ORDER}, idempotency_key=key
    )
    return email.execute(context).output


def test_renders_and_sends_text_and_html(outbox: list[Any]) -> None:
    """Addresses, subject and both bodies are templates; a list-valued address template
    adds every address; the output names the recipients, subject and Message-ID."""
    output = send(
        {
            "to": ["{{ input.customer.name }} <{{ input.customer.email }}>"],
            "cc": ["{{ input.watchers }}"],
            "subject": "Order {{ input.id }}\nconfirmed",
            "body": "Hello {{ input.customer.name }}, order {{ input.id }} is confirmed.",
            "html": "<p>Order <b>{{ input.id }}</b></p>",
        }
    )
    (message,) = outbox
    assert message.to == ["Ada Lovelace <ada@example.com>"]
    assert message.cc == ["ops@example.com", "Billing <billing@example.com>"]
    assert message.subject == "Order 1042 confirmed"
    assert message.body == "Hello Ada Lovelace, order 1042 is confirmed."
    assert message.alternatives[0].content == "<p>Order <b>1042</b></p>"
    assert message.from_email == "Stepwise <flows@shop.example>"
    assert message.extra_headers["X-Stepwise-Idempotency-Key"] == KEY
    assert message.extra_headers["Message-ID"] == output["message_id"]
    assert output == {
        "to": ["Ada Lovelace <ada@example.com>"],
        "subject": "Order 1042 confirmed",
        "message_id": output["message_id"],
    }
    assert output["message_id"].endswith("@shop.example>")


def test_the_message_id_is_stable_per_step(outbox: list[Any]) -> None:
    """A retried attempt (same key) sends the same Message-ID; another step gets another."""
    config = {"to": ["ada@example.com"], "subject": "Hi", "body": "x", "from": "me@a.example"}
    first = send(config)["message_id"]
    assert send(config)["message_id"] == first
    assert send(config, key="stepwise:12:5:notify")["message_id"] != first
    assert outbox[0].extra_headers["Message-ID"] == outbox[1].extra_headers["Message-ID"]
    assert outbox[0].from_email == "me@a.example"


@pytest.mark.parametrize(
    ("to", "bad"),
    [
        (["{{ input.customer.name }}"], "'Ada Lovelace' is not"),
        (["ada@example.com", "not-an-address"], "to[1]"),
        (["ada@example..com"], "'ada@example..com' is not a valid email address"),
        (["{{ input.id }}"], "an address must be text"),
        (["ada@example.com\nBcc: all@example.com"], "holds a line break"),
    ],
)
def test_a_bad_address_after_rendering_fails_at_once(
    outbox: list[Any], to: list[str], bad: str
) -> None:
    """The bad address is named, nothing is sent, and the error is never retried."""
    with pytest.raises(email.EmailInvalid) as raised:
        send({"to": to, "subject": "s", "body": "b"})
    assert isinstance(raised.value, NonRetryableError)
    assert bad in str(raised.value)
    assert outbox == []


def test_no_recipient_after_rendering_fails(outbox: list[Any]) -> None:
    """`to` that renders to nothing is an error rather than a silent no-op."""
    with pytest.raises(email.EmailInvalid, match="no recipient"):
        send({"to": ["{{ input.watchers.filter(w, w == '') }}"], "subject": "s", "body": "b"})


def test_an_unreachable_smtp_server_is_retryable(outbox: list[Any]) -> None:
    """A refused connection to the mail server raises an error the engine retries."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    smtp = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": closed_port, "timeout": 2},
        }
    }
    with override_settings(MAILERS=smtp), pytest.raises(email.EmailSendFailed) as raised:
        send({"to": ["ada@example.com"], "subject": "s", "body": "b"})
    assert not isinstance(raised.value, NonRetryableError)


def test_check_flags_static_addresses_only() -> None:
    """Validation names each static address that is not valid; templates are left alone."""
    config = {
        "to": ["ada@example.com", "nope", "{{ input.customer.email }}"],
        "cc": ["Bob <bob@@example.com>"],
        "from": "a@example.com, b@example.com",
    }
    problems = email.check("notify", config, CheckContext())
    assert [(p.field, p.message) for p in problems] == [
        ("config.to[1]", "'nope' is not a valid email address"),
        ("config.cc[0]", "'Bob <bob@@example.com>' is not an email address"),
        ("config.from", "the sender must be one address"),
    ]
