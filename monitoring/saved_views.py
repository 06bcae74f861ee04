"""Named filter sets a person keeps for a list page (the inbox, the runs explorer).

Both pages keep them alike: a name of 1 to 100 characters, at most MAX_SAVED_VIEWS each, the
same name again replaces the filters, and only their owner may delete one. The page parses
its own filters; a refusal changes nothing and says why on the page it returns to.
"""

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.models import User
from django.db.models import Model
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone

MAX_SAVED_VIEWS = 30


def refuse_view(request: HttpRequest, page: str, reason: str) -> HttpResponseRedirect:
    messages.error(request, f"Nothing saved: {reason}.")
    return HttpResponseRedirect(reverse(page), status=303)


def keep_view(
    request: HttpRequest, model: type[Model], page: str, params: Mapping[str, Any]
) -> HttpResponseRedirect:
    """Keep `params` under the posted name for this person, and show the page filtered so."""
    assert isinstance(request.user, User)
    name = request.POST.get("name", "").strip()
    if not name or len(name) > 100:
        return refuse_view(request, page, "name: 1 to 100 characters")
    mine = model._default_manager.filter(user=request.user)
    if mine.exclude(name=name).count() >= MAX_SAVED_VIEWS:
        return refuse_view(request, page, f"at most {MAX_SAVED_VIEWS} views; delete one")
    model._default_manager.update_or_create(
        user=request.user,
        name=name,
        defaults={"params": dict(params), "created_at": timezone.now()},
    )
    messages.success(request, f"Saved the view “{name}”.")
    return HttpResponseRedirect(f"{reverse(page)}?{urlencode(params, doseq=True)}", status=303)


def forget_view(
    request: HttpRequest, model: type[Model], page: str, view_id: int
) -> HttpResponseRedirect:
    """Delete one of this person's views (another person's is left, silently)."""
    assert isinstance(request.user, User)
    deleted, _ = model._default_manager.filter(pk=view_id, user=request.user).delete()
    if deleted:
        messages.success(request, "The view is gone.")
    return HttpResponseRedirect(reverse(page), status=303)
