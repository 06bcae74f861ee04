"""How the API names what it refuses.

Every 4xx about the request is `{"detail": "<field>: <message>", "field": "<field>"}`, where the
field is a path or query parameter, a body property (dotted for a nested one), `body` (not
JSON), `draft` (the saved draft an operation acts on) or `path` (an address no route takes).
django-ninja's own 422 keeps its list, `{"detail": [{"loc", "msg", "type"}], "field": <the first
loc's field>}`. 401, 403 and 429 are about the caller: `"field": null`. config/api.py adds
`field` to every HttpError whose message starts with `<field>: `, so a plain
`HttpError(422, "limit: …")` follows the rule too.
"""

from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Model, QuerySet
from ninja.errors import HttpError


class FieldError(HttpError):
    """A refusal about one field of the request."""

    def __init__(self, status_code: int, field: str, message: str) -> None:
        super().__init__(status_code, f"{field}: {message}")
        self.field = field


def found_or_404[M: Model](
    source: type[M] | QuerySet[M], field: str, what: str, **lookup: Any
) -> M:
    """The one object the lookup finds, or a 404 naming the parameter that named it."""
    queryset = source if isinstance(source, QuerySet) else source._default_manager.all()
    try:
        return queryset.get(**lookup)
    except ObjectDoesNotExist:
        value = next(iter(lookup.values()), "")
        raise FieldError(404, field, f"no {what} {value}") from None
