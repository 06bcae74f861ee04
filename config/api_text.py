"""Text PostgreSQL cannot store, refused at the API's door with the field it came in.

A NUL character, or half of a UTF-16 surrogate pair (JSON's `"\\ud800"` decodes to one), in a
path parameter, a query parameter or a JSON body makes psycopg or PostgreSQL raise deep inside
whichever action saves or looks it up: a 500. No field of ours may hold either, so one check
here answers 422 naming the field, before any view runs. Pages need none of this: Django's form
fields refuse NUL themselves.
"""

import json
import re
from collections.abc import Callable, Iterator
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse

from accounts.api_refusals import refusal

API_PREFIX = "/api/"
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
ESCAPED = re.compile(rb"\\u(0000|[dD][89a-fA-F])")
"""A body without these escapes cannot decode to unstorable text (raw bytes fail JSON itself)."""
MESSAGE = "must not contain NUL characters or unpaired UTF-16 surrogates"


def _unstorable_in(value: Any, where: str) -> Iterator[str]:
    """The dotted path of every string (or key) in a JSON value that cannot be stored."""
    if isinstance(value, str):
        if UNSTORABLE.search(value):
            yield where
    elif isinstance(value, dict):
        for key, item in value.items():
            inner = f"{where}.{key}" if where else str(key)
            if UNSTORABLE.search(key):
                yield where or "body"
            else:
                yield from _unstorable_in(item, inner)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _unstorable_in(item, f"{where or 'body'}[{index}]")


def _first_unstorable(request: HttpRequest, path_values: dict[str, Any]) -> str | None:
    for name, value in path_values.items():
        if isinstance(value, str) and UNSTORABLE.search(value):
            return name
    for name, values in request.GET.lists():
        # A parameter with no name, or one no endpoint could declare, is never read.
        readable = bool(name) and not UNSTORABLE.search(name)
        if readable and any(UNSTORABLE.search(value) for value in values):
            return name
    body = request.body
    if body and ESCAPED.search(body):
        try:
            parsed = json.loads(body)
        except ValueError:
            return None  # django-ninja answers a body that is not JSON itself
        return next(_unstorable_in(parsed, ""), None)
    return None


class UnstorableTextMiddleware:
    """Answer 422 for an API request that carries text no column can hold."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., HttpResponse],
        view_args: tuple[Any, ...],
        view_kwargs: dict[str, Any],
    ) -> HttpResponse | None:
        if not request.path.startswith(API_PREFIX):
            return None
        field = _first_unstorable(request, view_kwargs)
        if field is None:
            return None
        return JsonResponse(refusal(field, MESSAGE), status=422)
