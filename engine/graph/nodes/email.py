"""`action.email`: send an email through Django's configured email backend.

Addresses, subject and bodies are templates; in the HTML body every value is HTML-escaped, so
data from a run (a customer's name, a webhook's body) shows as text and never becomes markup.
A retried step sends the same Message-ID (derived from the step's idempotency key) and an
`X-Stepwise-Idempotency-Key` header, so mail servers and clients can recognise a duplicate if a
worker died between sending and journaling.
"""

import hashlib
import html
import json
import smtplib
from collections.abc import Mapping
from email.utils import formataddr, getaddresses, make_msgid
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.core.mail.handler import DEFAULT_MAILER_ALIAS
from django.core.validators import validate_email

from engine.core.errors import NonRetryableError
from engine.core.templates import compile_template
from engine.core.values import to_text
from engine.graph.nodes.base import (
    CheckContext,
    NodeContext,
    NodeResult,
    NodeType,
    Problem,
    register,
)

IDEMPOTENCY_HEADER = "X-Stepwise-Idempotency-Key"
MAX_RECIPIENTS = 100
MAX_SUBJECT = 998  # RFC 5322's line limit

_ADDRESS_LIST: dict[str, Any] = {
    "type": "array",
    "maxItems": MAX_RECIPIENTS,
    "items": {"type": "string", "minLength": 1, "maxLength": 1000},
}

CONFIG_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "additionalProperties": False,
    "required": ["to", "subject", "body"],
    "properties": {
        "to": {
            **_ADDRESS_LIST,
            "minItems": 1,
            "title": "To",
            "description": 'Addresses ("ada@example.com" or "Ada <ada@example.com>"); each a '
            "template, which may also give a list of addresses.",
        },
        "cc": {**_ADDRESS_LIST, "title": "Cc", "description": "Copy to these addresses."},
        "bcc": {
            **_ADDRESS_LIST,
            "title": "Bcc",
            "description": "Blind copy to these addresses (not shown to the others).",
        },
        "from": {
            "title": "From",
            "description": "The sender; DEFAULT_FROM_EMAIL when left out.",
            "type": "string",
            "maxLength": 1000,
        },
        "subject": {
            "title": "Subject",
            "description": "A template; line breaks become spaces.",
            "type": "string",
            "maxLength": MAX_SUBJECT,
        },
        "body": {
            "title": "Text body",
            "description": "The plain-text message, a template.",
            "type": "string",
        },
        "html": {
            "title": "HTML body",
            "description": "Optional HTML alternative, a template. Values are HTML-escaped "
            "(they show as text); the template's own markup is kept.",
            "type": "string",
        },
    },
}


class EmailInvalid(NonRetryableError):
    """An address, subject or sender cannot be used; a retry would not change it."""


class EmailRefused(NonRetryableError):
    """The mail server refused the message for good (a 5xx answer)."""


class EmailSendFailed(Exception):
    """The mail server could not be reached or answered with a temporary failure (retryable);
    `kind` says which (engine.core.error_kinds)."""

    def __init__(self, message: str, kind: str = "server_error") -> None:
        super().__init__(message)
        self.error_kind = kind


def execute(ctx: NodeContext) -> NodeResult:
    to = _addresses(ctx, "to")
    if not to:
        raise EmailInvalid("the email has no recipient: 'to' rendered to nothing")
    cc = _addresses(ctx, "cc")
    bcc = _addresses(ctx, "bcc")
    sender_list = _addresses(ctx, "from") if ctx.config.get("from") else []
    if len(sender_list) > 1:
        raise EmailInvalid("'from' must be one address")
    sender = sender_list[0] if sender_list else str(settings.DEFAULT_FROM_EMAIL)
    subject = " ".join(_text(ctx.render("subject", "")).split())[:MAX_SUBJECT]
    body = _text(ctx.render("body", ""))
    markup = _render_html(ctx) if ctx.config.get("html") else None

    message_id = _message_id(ctx.idempotency_key, sender)
    headers = {"Message-ID": message_id}
    if ctx.idempotency_key and not any(char in ctx.idempotency_key for char in "\r\n"):
        headers[IDEMPOTENCY_HEADER] = ctx.idempotency_key
    message = EmailMultiAlternatives(
        subject=subject,
        body=body,
        from_email=sender,
        to=to,
        cc=cc,
        bcc=bcc,
        headers=headers,
        alternatives=[(markup, "text/html")] if markup else None,
    )
    _send(message)
    return NodeResult(output={"to": to, "subject": subject, "message_id": message_id})


def _render_html(ctx: NodeContext) -> str:
    """The HTML body with every value it inserts HTML-escaped; the template's markup stays."""
    template = compile_template(str(ctx.config["html"]), node=ctx.node_id, field="html")
    html = template.render_text(ctx.scope, as_text=_escaped_text)
    ctx.rendered["html"] = html  # the node's input, as ctx.render keeps the other fields
    return html


def _escaped_text(value: Any) -> str:
    return html.escape(to_text(value))


def _send(message: EmailMessage) -> None:
    try:
        message.send(using=DEFAULT_MAILER_ALIAS)
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        refused = ", ".join(str(address) for address in exc.recipients)
        if all(code >= 500 for code in codes):
            raise EmailRefused(f"the mail server refused every recipient: {refused}") from None
        raise EmailSendFailed(f"the mail server deferred the recipients {refused}") from None
    except smtplib.SMTPResponseException as exc:
        reply = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else ""
        text = f"the mail server answered {exc.smtp_code} {reply}".strip()
        if exc.smtp_code >= 500:
            raise EmailRefused(text) from None
        raise EmailSendFailed(text) from None
    except smtplib.SMTPNotSupportedError as exc:
        raise EmailRefused(f"the mail server does not support this: {exc}") from None
    except (smtplib.SMTPException, OSError) as exc:
        raise EmailSendFailed(
            f"sending the email failed: {exc or type(exc).__name__}", "connection"
        ) from None


def _addresses(ctx: NodeContext, field: str) -> list[str]:
    """Render a field's addresses, validate each, and return them as "Name <addr>" text."""
    rendered = ctx.render(field)
    items = rendered if isinstance(rendered, list) else [rendered]
    found: list[str] = []
    for index, item in enumerate(items):
        where = f"{field}[{index}]" if isinstance(rendered, list) else field
        values = item if isinstance(item, list) else [item]
        for value in values:
            if value is None or (isinstance(value, str) and not value.strip()):
                continue
            if not isinstance(value, str):
                raise EmailInvalid(f"{where}: an address must be text, got {_shown(value)}")
            found.extend(parse_addresses(value, where))
    if len(found) > MAX_RECIPIENTS:
        raise EmailInvalid(f"{field}: {len(found)} addresses; the limit is {MAX_RECIPIENTS}")
    return found


def parse_addresses(text: str, where: str) -> list[str]:
    """Parse one or more comma-separated addresses; EmailInvalid names the first bad one."""
    if "\r" in text or "\n" in text:
        raise EmailInvalid(f"{where}: {text.strip()!r} holds a line break")
    parsed = []
    for name, address in getaddresses([text]):
        if not address:
            raise EmailInvalid(f"{where}: {text!r} is not an email address")
        try:
            validate_email(address)
        except ValidationError:
            # In a list name the bad part; alone, the whole text ("Ada Lovelace", not "Ada").
            shown = address if "," in text else text.strip()
            raise EmailInvalid(f"{where}: {shown!r} is not a valid email address") from None
        parsed.append(formataddr((name, address)) if name else address)
    if not parsed:
        raise EmailInvalid(f"{where}: {text!r} is not an email address")
    return parsed


def _message_id(idempotency_key: str, sender: str) -> str:
    """The same Message-ID on every attempt of the step; a fresh one outside a step."""
    addresses = getaddresses([sender])
    domain = addresses[0][1].rpartition("@")[2] if addresses else ""
    domain = domain or "stepwise.invalid"
    if not idempotency_key:
        return make_msgid(domain=domain)
    digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:40]
    return f"<{digest}.stepwise@{domain}>"


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, indent=2)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _shown(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def check(node_id: str, config: Mapping[str, Any], context: CheckContext) -> list[Problem]:
    """Addresses written without templates must be valid email addresses."""
    problems: list[Problem] = []
    for field in ("to", "cc", "bcc", "from"):
        value = config.get(field)
        entries = value if isinstance(value, list) else [value]
        for index, entry in enumerate(entries):
            if not isinstance(entry, str) or "{{" in entry or not entry.strip():
                continue
            where = f"{field}[{index}]" if isinstance(value, list) else field
            try:
                addresses = parse_addresses(entry, where)
            except EmailInvalid as exc:
                problems.append(Problem(node_id, f"config.{where}", str(exc).split(": ", 1)[1]))
                continue
            if field == "from" and len(addresses) > 1:
                problems.append(
                    Problem(node_id, f"config.{where}", "the sender must be one address")
                )
    return problems


register(
    NodeType(
        type="action.email",
        group="actions",
        title="Send email",
        description="Send an email; addresses, subject and bodies are templates.",
        config_schema=CONFIG_SCHEMA,
        templates=("to[]", "cc[]", "bcc[]", "from", "subject", "body", "html"),
        execute=execute,
        side_effects=True,
        error_handling=True,
        check=check,
        icon="mail",
        defaults={"to": [""], "subject": "", "body": ""},
    )
)
