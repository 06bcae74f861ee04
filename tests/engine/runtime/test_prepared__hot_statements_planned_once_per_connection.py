"""The engine's hot statements (a step's fenced insert, the lease, a run's start and end) are bound
on the server and prepared once they have been used a few times on a connection; PostgreSQL
then reuses one plan, and that plan still reaches the run's row by its primary key. The ORM's own
statements are never prepared, and STEPWISE_PREPARED_STATEMENTS=false turns it off.

Runs advanced as a worker would (engine.tasks.advance_run) in this process, on its connection,
against real PostgreSQL; what the server holds is read from pg_prepared_statements.
"""

import json
from typing import Any

import pytest
from django.db import connection, transaction
from django.test import override_settings
from django.utils import timezone

from engine.models import Run, RunStatus, StepRecord, Timer, TimerKind, Wait, WaitStatus
from engine.models.prepared import _converted, prepared_cursor
from engine.runtime.rollups import run_upsert_sql, run_values
from engine.runtime.runs import create_run, start_run
from engine.tasks import advance_run

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("queue_to_ourselves"),
]

STEPS = 12
RUNS = 8
OTHERS = 2000


def prepared_statements() -> list[dict[str, Any]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name, statement, generic_plans, custom_plans FROM pg_prepared_statements"
        )
        names = [column[0] for column in cursor.description or []]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def forget_prepared_statements() -> None:
    # psycopg forgets its own names too when it sees DEALLOCATE ALL.
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")


def run_no_op_workflows() -> None:
    for _ in range(RUNS):
        run = start_run("test-no-op-steps", {"steps": STEPS})
        advance_run(run.pk)
        run.refresh_from_db()
        assert run.status == RunStatus.COMPLETED, run.error
        assert StepRecord.objects.filter(run=run, status="completed").count() == STEPS


def the_one(statements: list[dict[str, Any]], starting: str) -> dict[str, Any]:
    found = [entry for entry in statements if entry["statement"].startswith(starting)]
    assert len(found) == 1, [entry["statement"][:80] for entry in statements]
    return found[0]


def generic_plan(name: str, parameters: int) -> dict[str, Any]:
    """The plan PostgreSQL reuses for a prepared statement (its values play no part in it)."""
    with connection.cursor() as cursor:
        cursor.execute("SET plan_cache_mode = force_generic_plan")
        try:
            nulls = ", ".join(["NULL"] * parameters)
            cursor.execute(f"EXPLAIN (FORMAT JSON) EXECUTE {name} ({nulls})")
            plan: dict[str, Any] = cursor.fetchone()[0][0]["Plan"]
        finally:
            cursor.execute("RESET plan_cache_mode")
    return plan


def scans(plan: dict[str, Any]) -> list[tuple[str, str]]:
    found = []
    if "Relation Name" in plan:
        found.append((plan["Node Type"], plan["Relation Name"]))
    for child in plan.get("Plans", []):
        found.extend(scans(child))
    return found


def parameter_count(statement: str) -> int:
    return max(
        int(token[1:])
        for token in statement.replace(")", " ").replace(",", " ").split()
        if token.startswith("$") and token[1:].isdigit()
    )


def test_a_steps_insert_and_the_lease_are_planned_once_and_reused() -> None:
    forget_prepared_statements()
    run_no_op_workflows()
    statements = prepared_statements()
    step = the_one(statements, "WITH inserted AS (INSERT INTO engine_steprecord")
    lease = the_one(statements, "UPDATE engine_run SET status = CASE")
    # Each step after the first few on the connection ran the prepared statement; once
    # PostgreSQL had tried a few custom plans it kept one generic plan.
    assert step["generic_plans"] + step["custom_plans"] >= RUNS * (STEPS - 1) - 5
    assert step["generic_plans"] > 0
    assert lease["generic_plans"] + lease["custom_plans"] == RUNS - 5
    # A plain start and a plain end are one statement each, with their rollup rows.
    for once_a_run in ("WITH created AS (INSERT INTO engine_run", "WITH ended AS (UPDATE"):
        prepared = the_one(statements, once_a_run)
        assert prepared["generic_plans"] + prepared["custom_plans"] == RUNS - 5
    # The ORM's statements stay client-side (a start that is not plain creates the run so).
    orm = ('INSERT INTO "engine_run"', 'SELECT "engine_steprecord"')
    assert not [entry for entry in statements if entry["statement"].startswith(orm)]


def test_long_statements_have_their_placeholders_rewritten_once() -> None:
    # psycopg rewrites a statement's placeholders at every execution when it has over 50
    # parameters; a plain start and a plain end have about a hundred (engine.models.prepared).
    run_no_op_workflows()
    before = _converted.cache_info()
    run_no_op_workflows()
    after = _converted.cache_info()
    assert after.misses == before.misses
    # A start, a lease, the steps and an end a run, every one found already rewritten.
    assert after.hits - before.hits >= RUNS * (STEPS + 2)
    assert before.currsize < 100  # a few fixed texts, not one per run
    # A long text (here a rollup upsert of 150 rows: one text per row count) is not kept.
    rows = [
        run_values(workflow=f"w{index}", minute=timezone.now(), started=1) for index in range(150)
    ]
    with prepared_cursor() as cursor:
        cursor.execute(run_upsert_sql(rows=150), [value for row in rows for value in row])
    assert _converted.cache_info().currsize == after.currsize


def fill_with_waiting_runs() -> list[str]:
    """OTHERS runs waiting, each on a timer and an event, with fresh statistics: the tables a
    run's hot statements look into, large enough that scanning one would be a choice."""
    with transaction.atomic():
        template = create_run("test-sleep", {"seconds": 3600})
    runs, timers, waits = Run._meta.db_table, Timer._meta.db_table, Wait._meta.db_table
    columns = ", ".join(f.column for f in Run._meta.concrete_fields if f.column != "id")
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {runs} ({columns}) SELECT {columns} "  # noqa: S608
            f"FROM {runs}, generate_series(1, %s) WHERE id = %s",
            [OTHERS, template.pk],
        )
        cursor.execute(
            f"INSERT INTO {timers} (run_id, kind, due_at) "  # noqa: S608
            f"SELECT id, %s, now() + interval '1 hour' FROM {runs} WHERE workflow = %s",
            [TimerKind.WAKE.value, "test-sleep"],
        )
        cursor.execute(
            f"INSERT INTO {waits} (run_id, seq, event_type, match_fields, match_key, filter, "  # noqa: S608
            f"status, created_at) SELECT id, 0, %s, '', '', '', %s, now() FROM {runs} "
            "WHERE workflow = %s",
            ["Other.happened", WaitStatus.WAITING.value, "test-sleep"],
        )
        for table in (runs, timers, waits):
            cursor.execute(f"ANALYZE {table}")
    return [runs, timers, waits]


def test_the_plans_reused_reach_rows_by_their_keys() -> None:
    filled = fill_with_waiting_runs()
    forget_prepared_statements()
    run_no_op_workflows()
    for entry in prepared_statements():
        plan = generic_plan(entry["name"], parameter_count(entry["statement"]))
        sequential = [scan for scan in scans(plan) if scan[0] == "Seq Scan" and scan[1] in filled]
        assert not sequential, (entry["statement"][:120], json.dumps(plan)[:2000])


@override_settings(STEPWISE_PREPARED_STATEMENTS=False)
def test_turned_off_nothing_is_prepared() -> None:
    forget_prepared_statements()
    run_no_op_workflows()
    assert prepared_statements() == []
    assert Run.objects.filter(status=RunStatus.COMPLETED).count() == RUNS
    assert StepRecord.objects.filter(status="completed").count() == RUNS * STEPS
