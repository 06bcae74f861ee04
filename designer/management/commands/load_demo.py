"""Load the demo data of the embedded default and print the demo logins.

It lives with the designer because it publishes the canvas demos; the demo users come from
accounts, below it."""

from typing import Any

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand

from accounts.demo import ensure_demo_users
from accounts.roles import ROLE_DESCRIPTIONS
from designer.demo_graphs import load_demo_graphs
from designer.demo_machines import load_demo_machines


class Command(BaseCommand):
    help = (
        "Create the demo users (one per role) and publish the canvas demo workflows and "
        "machines; print the logins."
    )

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

        # The demos name the demo users and groups, so they come after them.
        author = User.objects.filter(username="admin").first()
        self.stdout.write(self.style.MIGRATE_HEADING("Demo workflows (canvas)"))
        self._report(load_demo_graphs(author))
        self.stdout.write(self.style.MIGRATE_HEADING("Demo state machines (canvas)"))
        self._report(load_demo_machines(author))

    def _report(self, loaded: list[tuple[str, bool]]) -> None:
        for slug, created in loaded:
            state = "published" if created else "already there, left as it is"
            self.stdout.write(f"  {slug:<28} {state}")
