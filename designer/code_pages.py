"""What a code workflow's page shows: its parameters and the steps its recent runs took."""

import inspect
from typing import Any

from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Min

from engine.core.definitions import WorkflowDefinition
from engine.models import Run, StepRecord

RECENT_RUNS = 20


def parameters(definition: WorkflowDefinition) -> dict[str, Any]:
    """The function's signature and the fields of its input schema (name, type, required)."""
    try:
        signature = f"{definition.fn.__name__}{inspect.signature(definition.fn)}"
    except (TypeError, ValueError):
        signature = ""
    schema = definition.input_schema or {}
    properties = schema.get("properties") if isinstance(schema, dict) else None
    required = set(schema.get("required") or []) if isinstance(schema, dict) else set()
    fields = [
        {
            "name": name,
            "type": spec.get("type", "any") if isinstance(spec, dict) else "any",
            "required": name in required,
            "description": spec.get("description", "") if isinstance(spec, dict) else "",
        }
        for name, spec in (properties or {}).items()
    ]
    return {"signature": signature, "fields": fields}


def recent_steps(slug: str, runs: int = RECENT_RUNS) -> list[dict[str, Any]]:
    """Each step name of the last runs, in the order they first ran, with how often and how long.

    One query; steps named per item (`send-{id}`) show as many rows as names, as in the journal.
    """
    recent = Run.objects.filter(workflow=slug).order_by("-created_at").values("pk")[:runs]
    duration = ExpressionWrapper(F("finished_at") - F("started_at"), output_field=DurationField())
    rows = (
        StepRecord.objects.filter(run__in=recent, superseded=False)
        .values("name", "kind")
        .annotate(
            runs=Count("run", distinct=True),
            first_seq=Min("seq"),
            average=Avg(duration),
        )
        .order_by("first_seq", "name")[:100]
    )
    return [
        {
            "name": row["name"],
            "kind": row["kind"],
            "runs": row["runs"],
            "average_ms": row["average"].total_seconds() * 1000 if row["average"] else None,
        }
        for row in rows
    ]
