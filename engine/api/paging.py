"""Cursor pages for API lists: one convention (GET /api/runs's) for every list.

A page answers at most `limit` items. When more follow, `X-Next-Cursor` carries an opaque
cursor and `Link: <…>; rel="next"` the same URL with it; the last page has neither. The
cursors are engine/core/cursors.py's, as every list's are.
"""

from collections.abc import Sequence
from typing import Any

from django.http import HttpRequest, HttpResponse, QueryDict

from accounts.api_refusals import FieldError
from engine.core.cursors import CursorError, KeyPart, decode_cursor

__all__ = ["cursor_key", "page_limit", "set_next_page"]


def page_limit(given: int | None, *, default: int, most: int, name: str = "limit") -> int:
    """The page size asked for, or a 422 naming the parameter (`name`)."""
    if given is None:
        return default
    if not 1 <= given <= most:
        raise FieldError(422, name, f"must be between 1 and {most}")
    return given


def cursor_key(
    scope: str, cursor: str, kinds: Sequence[type[KeyPart]], *, name: str = "cursor"
) -> list[Any]:
    """The sort key a cursor of this list (`scope`) holds, or a 422 naming the parameter."""
    try:
        return decode_cursor(scope, cursor, kinds)
    except CursorError as refused:
        raise FieldError(422, name, str(refused)) from None


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
