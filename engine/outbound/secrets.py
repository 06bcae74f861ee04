"""Secrets referenced by name: read from the environment when a step needs them, never stored.

A graph names a secret (`{{ secrets.CRM_TOKEN }}` in an HTTP node's header); the worker reads
its value from the environment variable `STEPWISE_SECRET_CRM_TOKEN` while the step runs. The
value is never written to a graph, the journal, an output or an error: callers pass every text
they return through `redact` with the names they used.
"""

import json
import os
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote, quote_plus

from engine.core.errors import NonRetryableError

__all__ = [
    "ENV_PREFIX",
    "REDACTED",
    "SecretMissing",
    "env_name",
    "get_secret",
    "redact",
    "redact_value",
    "referenced_secrets",
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
