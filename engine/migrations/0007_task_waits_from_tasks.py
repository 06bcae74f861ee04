"""Runs that wait on a person now wait on the task itself, not on a `Task.decided` event.

Journal records of such waits (in flight or done) become task waits, so that runs started before
this change replay and resume the same way; the event waits behind them go.
"""

from typing import Any

from django.db import migrations


def to_task_waits(apps: Any, schema_editor: Any) -> None:
    StepRecord = apps.get_model("engine", "StepRecord")
    Wait = apps.get_model("engine", "Wait")
    for record in StepRecord.objects.filter(kind="wait", detail__event_types=["Task.decided"]):
        match = (record.detail or {}).get("match") or {}
        task_id = match.get("task")
        if not isinstance(task_id, int):
            continue
        record.kind = "task"
        record.detail = {"task": task_id, "closes": False}
        payload = (record.output or {}).get("payload") if isinstance(record.output, dict) else None
        if isinstance(payload, dict):
            record.output = {
                "task": task_id,
                "outcome": payload.get("outcome"),
                "decisions": payload.get("decisions") or [],
            }
        elif record.status == "failed":
            # It timed out then; a replay must take the same path.
            record.output = {"task": task_id, "outcome": "timeout", "decisions": []}
        record.save(update_fields=["kind", "detail", "output"])
    Wait.objects.filter(event_type="Task.decided").delete()


class Migration(migrations.Migration):
    dependencies = [("engine", "0006_retry_redoes_undone_steps")]

    operations = [migrations.RunPython(to_task_waits, migrations.RunPython.noop)]
