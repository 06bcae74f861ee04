"""Load the demo data of the embedded default and print the demo logins.

It lives with the designer because it publishes the canvas demos; the demo users come from
accounts, below it."""

from typing import Any

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand

from accounts.demo import (
    demo_users_with_published_passwords,
    ensure_demo_users,
    why_not_create_demo_users,
)
from accounts.roles import ROLE_DESCRIPTIONS
from designer.demo_graphs import load_demo_graphs
from designer.demo_machines import load_demo_machines


class Command(BaseCommand):
    help = (
        "Create the demo users (one per role) and publish the canvas demo workflows and "
        "machines; print the logins. Only in a fresh embedded database, unless STEPWISE_DEMO=1."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(self.style.MIGRATE_HEADING("Demo logins"))
        refused = why_not_create_demo_users()
        if refused is not None:
            # The demo workflows and machines name the demo users, so they are skipped with them.
            self.stdout.write(
                f"  Skipped the demo users and workflows: {refused}, and demo passwords are "
                "published. Set STEPWISE_DEMO=1 to load them anyway."
            )
            for username in demo_users_with_published_passwords():
                self.stdout.write(
                    self.style.WARNING(f"  {username} still has its published password: change it.")
                )
            return
        self._create_demo_users()

        # The demos name the demo users and groups, so they come after them.
        author = User.objects.filter(username="admin").first()
        self.stdout.write(self.style.MIGRATE_HEADING("Demo workflows (canvas)"))
        self._report(load_demo_graphs(author))
        self.stdout.write(self.style.MIGRATE_HEADING("Demo state machines (canvas)"))
        self._report(load_demo_machines(author))

    def _create_demo_users(self) -> None:
        for login in ensure_demo_users():
            demo = login.user
            what = (
                "administrator (admin site)"
                if demo.is_admin
                else (f"{demo.role.value}: {ROLE_DESCRIPTIONS[demo.role]}" if demo.role else "")
            )
            password = demo.password if login.password_unchanged else "(changed by its owner)"
            self.stdout.write(f"  {demo.username:<10} {password:<22} {what}")

    def _report(self, loaded: list[tuple[str, bool]]) -> None:
        for slug, created in loaded:
            state = "published" if created else "already there, left as it is"
            self.stdout.write(f"  {slug:<28} {state}")
