"""Finding people to assign work to: users and groups by name, for the designer's picker."""

from typing import Any

from django.contrib.auth.models import Group, User
from django.db.models import Q

MAX_PEOPLE = 20
MAX_QUERY_LENGTH = 100


def search_people(text: str, limit: int = MAX_PEOPLE) -> list[dict[str, Any]]:
    """Active users (by username, first or last name) and groups (by name) containing `text`.

    Users come before groups; exact and prefix matches first. E-mail addresses are not shown:
    any designer may search, and the picker needs names only.
    """
    text = text.strip()[:MAX_QUERY_LENGTH]
    users = User.objects.filter(is_active=True)
    groups = Group.objects.all()
    if text:
        users = users.filter(
            Q(username__icontains=text)
            | Q(first_name__icontains=text)
            | Q(last_name__icontains=text)
        )
        groups = groups.filter(name__icontains=text)
    found: list[dict[str, Any]] = []
    for user in users.order_by("username")[: limit * 2]:
        full = user.get_full_name()
        label = f"{full} ({user.username})" if full else user.username
        found.append({"kind": "user", "name": user.username, "label": label})
    for group in groups.order_by("name")[: limit * 2]:
        found.append({"kind": "group", "name": group.name, "label": f"{group.name} (group)"})
    lowered = text.lower()
    found.sort(
        key=lambda person: (
            person["name"].lower() != lowered,
            not person["name"].lower().startswith(lowered),
            person["kind"] != "user",
            person["name"].lower(),
        )
    )
    return found[:limit]
