"""The stand-ins a secret takes while a request is rendered, and how to show them.

A `{{ secrets.NAME }}` template becomes a random marker before rendering, and the marker becomes
the value only at send time (engine.outbound.secrets.render_with_secrets). Anything kept from the
rendering (a node's input for the step panel) is taken before that and shows the marker as
`[secret NAME]`, so no secret value can reach the journal by that road.
"""

import re
from collections.abc import Callable, Mapping
from secrets import token_hex
from typing import Any

__all__ = ["map_strings", "marker", "new_nonce", "unmark"]

_MARKER = re.compile(r"\x00[0-9a-f]{16}:(?P<name>[A-Za-z0-9_]{1,100})\x00")


def new_nonce() -> str:
    """Sixteen hex digits: a rendering's markers cannot be guessed by the text around them."""
    return token_hex(8)


def marker(nonce: str, name: str) -> str:
    return f"\x00{nonce}:{name}\x00"


def map_strings(value: Any, change: Callable[[str], str], *, keys: bool = False) -> Any:
    """`value` with every text inside dicts and lists (with `keys`, keys too) passed through
    `change`."""
    if isinstance(value, str):
        return change(value)
    if isinstance(value, Mapping):
        return {
            change(key) if keys and isinstance(key, str) else key: map_strings(
                item, change, keys=keys
            )
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [map_strings(item, change, keys=keys) for item in value]
    return value


def unmark(value: Any) -> Any:
    """`value` with each marker shown as `[secret NAME]`."""
    return map_strings(value, lambda text: _MARKER.sub(r"[secret \g<name>]", text), keys=True)
