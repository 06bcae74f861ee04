"""Bring the schedules declared in code and in published graphs into the database."""

from typing import Any

from django.core.management.base import BaseCommand

from engine.inbound.schedule_sync import sync_declared_schedules


class Command(BaseCommand):
    help = (
        "Create, update and remove the schedules of code workflows (@workflow(schedule=...)) "
        "and of published graphs (trigger.schedule nodes). Every timer loop does this when it "
        "starts; run it after a deploy to see the outcome at once."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        report = sync_declared_schedules()
        self.stdout.write(
            f"Schedules: {report.created} created, {report.updated} updated, "
            f"{report.deleted} removed."
        )
