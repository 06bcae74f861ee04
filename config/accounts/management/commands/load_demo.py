"""Load the demo data of the embedded default and print the demo logins."""

from typing import Any

from django.core.management.base import BaseCommand

from config.accounts.demo import ensure_demo_users
from config.accounts.roles import ROLE_DESCRIPTIONS


class Command(BaseCommand):
    help = "Create the demo users (one per role) and print their logins."

    def handle(self, *args: Any, **options: Any) -> None:
        logins = ensure_demo_users()
        self.stdout.write(self.style.MIGRATE_HEADING("Demo logins"))
        for login in logins:
            demo = login.user
            what = (
                "administrator (admin site)"
                if demo.is_admin
                else (f"{demo.role.value}: {ROLE_DESCRIPTIONS[demo.role]}" if demo.role else "")
            )
            password = demo.password if login.password_unchanged else "(changed by its owner)"
            self.stdout.write(f"  {demo.username:<10} {password:<22} {what}")
