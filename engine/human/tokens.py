"""Decision link tokens: one person's decision on one task, signed, expiring, with a nonce.

A token holds no secret and needs no row until it is used: the signature (keyed by SECRET_KEY)
makes it unforgeable, and engine.human.links records its nonce when it decides, which makes it
single-use. Its age is checked against the setting at the time of use.
"""

import secrets
from dataclasses import dataclass

from django.conf import settings
from django.core import signing

# Keeps these signatures apart from every other use of SECRET_KEY (sessions, password resets).
SALT = "stepwise.human.decision-link"
NOT_VALID = "this link is not valid: it was changed or cut short"


@dataclass(frozen=True)
class LinkClaim:
    """What a decision link asks for: `user_id` decides `task_id` with `decision`, once."""

    task_id: int
    user_id: int
    decision: str
    nonce: str


class LinkRefused(ValueError):
    """A decision link that cannot be used; `status` is the HTTP status a page answers with."""

    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def max_age_seconds() -> int:
    """How long a link works; 0 when one-click links are turned off."""
    return max(0, int(settings.STEPWISE_DECISION_LINK_MAX_AGE_SECONDS))


def new_nonce() -> str:
    return secrets.token_urlsafe(16)


def sign_link(task_id: int, user_id: int, decision: str, nonce: str) -> str:
    """A URL-safe token for the link (a list, not a dict: mail clients wrap long lines)."""
    return signing.dumps([task_id, user_id, decision, nonce], salt=SALT)


def read_link(token: str) -> LinkClaim:
    """The claim a token carries, or LinkRefused: links off or expired (410), not ours (400)."""
    age = max_age_seconds()
    if not age:
        raise LinkRefused(
            "one-click decision links are turned off here; decide in the inbox", status=410
        )
    try:
        payload = signing.loads(token, salt=SALT, max_age=age)
    except signing.SignatureExpired:
        raise LinkRefused("this link has expired; decide in the inbox", status=410) from None
    except signing.BadSignature:
        raise LinkRefused(NOT_VALID, status=400) from None
    # Only sign_link writes with this salt; this turns a change of its format into a refusal.
    try:
        task_id, user_id, decision, nonce = payload
        return LinkClaim(int(task_id), int(user_id), str(decision), str(nonce))
    except (TypeError, ValueError):
        raise LinkRefused(NOT_VALID, status=400) from None
