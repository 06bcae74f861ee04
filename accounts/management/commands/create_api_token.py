"""Create a personal API token and print it once."""

from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from accounts.models import ApiToken


class Command(BaseCommand):
    help = (
        "Create an API token for a user and print it. Only its hash is stored: "
        "it cannot be shown again."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", default="command line", help="What the token is for.")
        parser.add_argument(
            "--expires-in-days",
            type=int,
            default=None,
            help="Days until the token stops working (default: STEPWISE_API_TOKEN_DAYS).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        user_model = get_user_model()
        try:
            user = user_model.objects.get(username=options["username"])
        except user_model.DoesNotExist:
            raise CommandError(f"username: no user called {options['username']!r}") from None
        if not user.is_active:
            raise CommandError(f"username: {user.get_username()!r} is inactive")
        days = options["expires_in_days"]
        if days is not None and days <= 0:
            raise CommandError("--expires-in-days: must be a positive number of days")
        expires_at = timezone.now() + timedelta(days=days) if days else None
        token, raw = ApiToken.issue(user, options["name"], expires_at)
        self.stdout.write(raw)
        self.stderr.write("Send it as 'Authorization: Bearer <token>'. It is shown only this once.")
        if token.expires_at is not None:
            self.stderr.write(f"It stops working at {token.expires_at:%Y-%m-%d %H:%M %Z}.")
