"""Recompute the dashboard rollups from the runs, the journal and the recorded metrics."""

import time
from typing import Any

from django.core.management.base import BaseCommand

from engine.runtime.rollup_rebuild import compact_rollups, rebuild_rollups


class Command(BaseCommand):
    help = (
        "Recompute the per-minute run, step and metric rollups behind /dashboards/ and /metrics "
        "from the runs, their journal and their recorded metrics. Safe to run at any time; "
        "runs ending meanwhile may be counted twice or not at all, so prefer a quiet moment."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        began = time.perf_counter()
        runs, steps, metrics = rebuild_rollups()
        # Minutes older than two hours become hours, as the timer loop would soon do.
        merged = compact_rollups()
        seconds = time.perf_counter() - began
        self.stdout.write(
            f"{runs} run, {steps} step and {metrics} metric rollup rows, {merged} of them merged "
            f"into hours, "
            f"in {seconds:.1f}s"
        )
