"""What people do to breakers: the one place that resets one, and logs who did."""

import logging

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from engine.resilience.breakers import reset

logger = logging.getLogger(__name__)


def do_reset_breaker(name: str, actor: AbstractBaseUser | AnonymousUser) -> None:
    """Close the breaker `name` for every worker at once; the caller checked the capability."""
    reset(name)
    logger.info("circuit breaker %s reset by %s", name, actor.get_username() or "anonymous")
