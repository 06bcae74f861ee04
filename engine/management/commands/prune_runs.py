"""Delete ended runs past their retention now, in batches, optionally exporting them first."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from engine.runtime.retention import BATCH, Retention, prunable, prune_batch


class Command(BaseCommand):
    help = (
        "Delete ended runs older than their retention (STEPWISE_RETENTION_DAYS, "
        "STEPWISE_RETENTION_OVERRIDES), in batches; --export writes them to JSON lines first."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--export", type=Path, help="append the runs to this .jsonl file first")
        parser.add_argument("--days", type=int, help="the default retention for this once")
        parser.add_argument("--batch", type=int, default=BATCH)
        parser.add_argument("--dry-run", action="store_true", help="only count them")

    def handle(self, *args: Any, **options: Any) -> None:
        retention = Retention.from_settings()
        if options["days"] is not None:
            if options["days"] < 1:
                raise CommandError("--days: at least 1 (0 would mean: keep every run)")
            retention = Retention(options["days"], retention.overrides)
        if options["batch"] < 1:
            raise CommandError("--batch: at least 1")

        if options["dry_run"]:
            count = prunable(retention, timezone.now()).count()
            self.stdout.write(f"{count} run(s) are past their retention.")
            return
        total = 0
        export = options["export"].open("a", encoding="utf-8") if options["export"] else None
        try:
            while pruned := prune_batch(retention, batch=options["batch"], export=export):
                total += pruned
                self.stdout.write(f"deleted {total} run(s)…")
        finally:
            if export is not None:
                export.close()
        where = f", exported to {options['export']}" if export is not None else ""
        self.stdout.write(self.style.SUCCESS(f"Deleted {total} run(s){where}."))
