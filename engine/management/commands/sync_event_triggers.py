"""Subscribe every published graph to the events and webhooks its newest version names."""

from typing import Any

from django.core.management.base import BaseCommand

from engine.inbound.triggers import sync_all_event_triggers


class Command(BaseCommand):
    help = (
        "Rebuild the event subscriptions of graph workflows (trigger.event and trigger.webhook "
        "nodes of each newest live version). Publishing keeps them in step; run this after an "
        "upgrade that added the table, or to repair it."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        count = sync_all_event_triggers()
        self.stdout.write(f"Event subscriptions: {count} from the published graphs.")
