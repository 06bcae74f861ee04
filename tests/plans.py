"""Reading PostgreSQL's plans in tests: run a captured statement again under EXPLAIN ANALYZE
(rolled back) and count what its scans of one table read."""

from typing import Any

from django.db import connection, transaction


def analyzed_plan(sql: str) -> dict[str, Any]:
    """The plan of `sql`, as Django sent it, executed and then rolled back."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}")
            plan: dict[str, Any] = cursor.fetchone()[0][0]["Plan"]
        transaction.set_rollback(True)
    return plan


def rows_scanned(plan: dict[str, Any], table: str) -> tuple[int, int]:
    """Rows the plan's scans of `table` returned, and rows they read only to throw away."""
    returned = dropped = 0
    if plan.get("Relation Name") == table:
        loops = int(plan.get("Actual Loops", 1))
        returned += int(plan.get("Actual Rows", 0)) * loops
        dropped += int(plan.get("Rows Removed by Filter", 0)) * loops
        dropped += int(plan.get("Rows Removed by Index Recheck", 0)) * loops
    for child in plan.get("Plans", []):
        child_returned, child_dropped = rows_scanned(child, table)
        returned += child_returned
        dropped += child_dropped
    return returned, dropped
