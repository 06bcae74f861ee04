"""Personal API tokens, stored only as a hash."""

import hashlib
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.db import models
from django.utils import timezone

TOKEN_PREFIX = "sw_"  # noqa: S105 - a marker, not a secret
# Writing last_used_at on every request would turn each API read into a write.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def default_expiry() -> datetime | None:
    """When a token created now stops working: STEPWISE_API_TOKEN_DAYS from now (0: never)."""
    days: int = settings.STEPWISE_API_TOKEN_DAYS
    return timezone.now() + timedelta(days=days) if days > 0 else None


def digest_token(raw: str) -> str:
    # Tokens carry 240 random bits, so a fast hash is enough: nothing to brute-force.
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiTokenQuerySet(models.QuerySet["ApiToken"]):
    def usable(self) -> "ApiTokenQuerySet":
        now = timezone.now()
        return self.filter(revoked_at__isnull=True, user__is_active=True).filter(
            models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=now)
        )


class ApiToken(models.Model):
    """A personal token sent as `Authorization: Bearer <token>`; shown once when created."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100, help_text="What the token is for.")
    prefix = models.CharField(max_length=12, editable=False, help_text="Start of the token.")
    digest = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        verbose_name = "API token"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @classmethod
    def issue(
        cls, user: User, name: str, expires_at: datetime | None = None
    ) -> tuple["ApiToken", str]:
        """Create a token and return it with its clear text, which is never stored.

        Without expires_at it stops working after the default lifetime, so a token forgotten in
        a script or a leaked log does not work forever.
        """
        raw = TOKEN_PREFIX + secrets.token_urlsafe(30)
        token = cls(user=user, name=name, expires_at=expires_at or default_expiry())
        token.set_secret(raw)
        token.save()
        return token, raw

    def set_secret(self, raw: str) -> None:
        self.prefix = raw[:10]
        self.digest = digest_token(raw)

    @classmethod
    def authenticate(cls, raw: str) -> "ApiToken | None":
        if not raw.startswith(TOKEN_PREFIX):
            return None
        token = cls.objects.usable().select_related("user").filter(digest=digest_token(raw))
        found = token.first()
        if found is None:
            return None
        now = timezone.now()
        if found.last_used_at is None or now - found.last_used_at > LAST_USED_RESOLUTION:
            cls.objects.filter(pk=found.pk).update(last_used_at=now)
        return found

    @property
    def is_usable(self) -> bool:
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or self.expires_at > timezone.now()
