"""Finding what a path parameter names, or a 404 naming that parameter.

The body of every refusal is accounts/api_refusals.py's; this is the engine's lookup that
refuses in it."""

from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Model, QuerySet

from accounts.api_refusals import FieldError


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
