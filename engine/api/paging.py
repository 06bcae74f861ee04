"""Cursor pages for API lists: one convention (GET /api/runs's) for every list.

A page answers at most `limit` items. When more follow, `X-Next-Cursor` carries an opaque
cursor and `Link: <…>; rel="next"` the same URL with it; the last page has neither.
"""

import base64
import binascii
import json
from typing import Any

from django.http import HttpRequest, HttpResponse, QueryDict
from ninja.errors import HttpError

__all__ = ["decode_cursor", "encode_cursor", "page_limit", "set_next_page"]


def page_limit(given: int | None, *, default: int, most: int, name: str = "limit") -> int:
    """The page size asked for, or a 422 naming the parameter (`name`)."""
    if given is None:
        return default
    if not 1 <= given <= most:
        raise HttpError(422, f"{name}: must be between 1 and {most}")
    return given


def encode_cursor(key: list[Any]) -> str:
    """An opaque cursor holding the last item's sort key."""
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, types: tuple[type, ...]) -> list[Any]:
    """The sort key a cursor holds, checked against `types`; a 422 naming `cursor` otherwise."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        key = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(key, list) or len(key) != len(types):
            raise ValueError
        for part, wanted in zip(key, types, strict=True):
            if not isinstance(part, wanted) or isinstance(part, bool):
                raise ValueError
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise HttpError(422, "cursor: not a cursor this list gave") from None
    return key


def set_next_page(
    request: HttpRequest,
    response: HttpResponse,
    cursor: str,
    *,
    path: str | None = None,
    limit: int | None = None,
) -> None:
    """Point the client at the next page (nothing on the last): the `X-Next-Cursor` header
    and `Link: rel=next`: this list with the request's other parameters, or another list
    (`path`, e.g. the rest of an embedded one) with only `limit`."""
    if not cursor:
        return
    response["X-Next-Cursor"] = cursor
    following = request.GET.copy() if path is None else QueryDict(mutable=True)
    if path is not None and limit is not None:
        following["limit"] = str(limit)
    following["cursor"] = cursor
    response["Link"] = f'<{path or request.path}?{following.urlencode()}>; rel="next"'
