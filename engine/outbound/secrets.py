"""Secrets referenced by name: read from the environment when a step needs them, never stored.

A graph names a secret (`{{ secrets.CRM_TOKEN }}` in an HTTP node's header); the worker reads
its value from the environment variable `STEPWISE_SECRET_CRM_TOKEN` while the step runs. The
value is never written to a graph, the journal, an output or an error: callers pass every text
they return through `redact` with the names they used.
"""

import json
import os
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import quote, quote_plus

from engine.core.errors import NonRetryableError
from engine.core.secret_markers import map_strings, marker, new_nonce

__all__ = [
    "ENV_PREFIX",
    "REDACTED",
    "SecretMissing",
    "env_name",
    "get_secret",
    "is_whole_reference",
    "redact",
    "redact_value",
    "referenced_secrets",
    "render_with_secrets",
    "resolve_secrets",
]

ENV_PREFIX = "STEPWISE_SECRET_"
REDACTED = "[secret]"
NAME_PATTERN = re.compile(r"^[A-Za-z0-9_]{1,100}$")

# `secrets.NAME` or `secrets['NAME']` inside a template; anything else (a computed index) cannot
# be resolved ahead of rendering and fails there as an unknown key.
_REFERENCE = re.compile(
    r"(?<![\w.])secrets\s*(?:\.\s*(?P<attr>[A-Za-z_][A-Za-z0-9_]*)"
    r"|\[\s*(?P<quote>['\"])(?P<key>[A-Za-z0-9_]+)(?P=quote)\s*\])"
)


# A template part that is a secret and nothing else: the only form a secret may take.
_WHOLE_REFERENCE = re.compile(
    r"^secrets\s*(?:\.\s*(?P<attr>[A-Za-z_][A-Za-z0-9_]*)"
    r"|\[\s*(?P<quote>['\"])(?P<key>[A-Za-z0-9_]+)(?P=quote)\s*\])$"
)
# The same, with its braces, inside a text: what the worker substitutes after rendering.
_WHOLE_TEMPLATE = re.compile(
    r"\{\{\s*secrets\s*(?:\.\s*(?P<attr>[A-Za-z_][A-Za-z0-9_]*)"
    r"|\[\s*(?P<quote>['\"])(?P<key>[A-Za-z0-9_]+)(?P=quote)\s*\])\s*\}\}"
)
SCOPE_NAME = "secrets"
ONLY_WHOLE = "a secret may only be a whole {{ secrets.NAME }} template: nothing may compute with it"
ONLY_IN_REQUESTS = (
    "secrets may only be sent: write {{ secrets.NAME }} in an HTTP request's url, headers, "
    "query or body"
)


def is_whole_reference(source: str) -> bool:
    """`secrets.NAME` or `secrets['NAME']` and nothing else (a template part's source)."""
    return _WHOLE_REFERENCE.match(source.strip()) is not None


def render_with_secrets(
    value: Any, secrets: Mapping[str, str], render: Callable[[Any], Any]
) -> Any:
    """Render `value` with each whole `{{ secrets.NAME }}` filled in after rendering, never
    evaluated: `secrets` is not in the expressions' scope, so no expression can compute a
    derived form of a secret (its length, a match) and leak it.

    Each reference becomes a random marker before `render` runs; the markers are replaced in the
    rendered result (text anywhere inside dicts and lists) by the values."""
    if not secrets:
        return render(value)
    nonce = new_nonce()
    by_marker: dict[str, str] = {}

    def mark(match: re.Match[str]) -> str:
        name = match.group("attr") or match.group("key")
        stand_in = marker(nonce, name)
        by_marker[stand_in] = secrets[name] if name in secrets else get_secret(name)
        return stand_in

    rendered = render(map_strings(value, lambda text: _WHOLE_TEMPLATE.sub(mark, text)))

    def fill(text: str) -> str:
        for stand_in, secret in by_marker.items():
            text = text.replace(stand_in, secret)
        return text

    return map_strings(rendered, fill)


class SecretMissing(NonRetryableError):
    """A referenced secret has no value in the environment of the process that needs it."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(
            f"secret {name!r} is not set: define the environment variable "
            f"{_env_name_unchecked(name)} for the workers"
        )


def env_name(name: str) -> str:
    """The environment variable that holds a secret: names are case-insensitive."""
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        raise NonRetryableError(
            f"{name!r} is not a secret name: use letters, digits and underscores (at most 100)"
        )
    return _env_name_unchecked(name)


def _env_name_unchecked(name: str) -> str:
    return f"{ENV_PREFIX}{name.upper()}"


def get_secret(name: str) -> str:
    """The secret's value, or SecretMissing when it is not set (or set to nothing)."""
    value = os.environ.get(env_name(name), "")
    if not value:
        raise SecretMissing(name)
    return value


def referenced_secrets(value: Any) -> set[str]:
    """The secret names that templates inside `value` (text, dicts, lists) refer to."""
    found: set[str] = set()
    _collect(value, found)
    return found


def _collect(value: Any, found: set[str]) -> None:
    if isinstance(value, str):
        if "secrets" in value:
            for match in _REFERENCE.finditer(value):
                found.add(match.group("attr") or match.group("key"))
    elif isinstance(value, Mapping):
        for item in value.values():
            _collect(item, found)
    elif isinstance(value, list | tuple):
        for item in value:
            _collect(item, found)


def resolve_secrets(names: Iterable[str]) -> dict[str, str]:
    """Read just these secrets, keyed as the templates spell them."""
    return {name: get_secret(name) for name in sorted(set(names))}


def redact(text: str, secrets_used: Mapping[str, str] | Iterable[str]) -> str:
    """Replace every secret value (also URL- or JSON-escaped) in the text with a marker.

    `secrets_used` holds values, or is a name → value mapping as `resolve_secrets` returns.
    """
    values = secrets_used.values() if isinstance(secrets_used, Mapping) else secrets_used
    forms: set[str] = set()
    for value in values:
        if value:
            forms.update(_escaped_forms(value))
    # Longest first, so a secret containing another is replaced whole.
    for form in sorted(forms, key=len, reverse=True):
        text = text.replace(form, REDACTED)
    return text


def _escaped_forms(value: str) -> set[str]:
    forms = {value, quote(value, safe=""), quote_plus(value, safe=""), json.dumps(value)[1:-1]}
    return {form for form in forms if form}


def redact_value(value: Any, secrets_used: Mapping[str, str] | Iterable[str]) -> Any:
    """Redact every string (keys included) inside a JSON-like value."""
    values = list(secrets_used.values() if isinstance(secrets_used, Mapping) else secrets_used)
    if not any(values):
        return value
    return _redact_value(value, values)


def _redact_value(value: Any, values: list[str]) -> Any:
    if isinstance(value, str):
        return redact(value, values)
    if isinstance(value, Mapping):
        return {
            redact(key, values) if isinstance(key, str) else key: _redact_value(item, values)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [_redact_value(item, values) for item in value]
    return value
