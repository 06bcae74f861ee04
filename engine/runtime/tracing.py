"""OpenTelemetry spans for runs and steps, when an exporter is configured.

`STEPWISE_OTEL_EXPORTER=otlp` sends spans over OTLP/HTTP (the standard `OTEL_EXPORTER_OTLP_*`
variables say where), `console` prints them; unset, nothing is traced and nothing is paid.

Spans are written after the fact, from the journal, when a step attempt or a run ends: a run is
replayed and resumed across workers and days, so no process holds it open the whole time. Ids
are derived from run ids, so every process agrees on them without talking: a run's trace is its
root run's (children join their parent's trace), a step's span is a child of its run's span, and
a child run's span is a child of its parent run's.
"""

import contextvars
import hashlib
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter
from opentelemetry.sdk.trace.id_generator import IdGenerator, RandomIdGenerator
from opentelemetry.trace import NonRecordingSpan, SpanContext, SpanKind, TraceFlags
from opentelemetry.trace.status import Status, StatusCode

from engine.messaging.signals import run_changed, step_changed
from engine.models import TERMINAL_STATUSES, Run, StepRecord

logger = logging.getLogger(__name__)

ENDED_STEPS = frozenset({"completed", "failed", "retrying", "cancelled"})
"""Journal statuses that close an attempt (a retrying attempt ended; the next is a new span)."""
MAX_PARENT_HOPS = 20

_planned: contextvars.ContextVar[tuple[int, int] | None] = contextvars.ContextVar(
    "stepwise_planned_span", default=None
)
_tracer: trace.Tracer | None = None


class _PlannedIds(IdGenerator):
    """Random ids, except for the span being written: the ids its run id gives."""

    def __init__(self) -> None:
        self._random = RandomIdGenerator()

    def generate_trace_id(self) -> int:
        planned = _planned.get()
        return planned[0] if planned else self._random.generate_trace_id()

    def generate_span_id(self) -> int:
        planned = _planned.get()
        return planned[1] if planned else self._random.generate_span_id()


def _id(text: str, size: int) -> int:
    value = int.from_bytes(hashlib.sha256(text.encode()).digest()[:size], "big")
    return value or 1  # zero is the invalid id


def run_span_id(run_id: int) -> int:
    return _id(f"stepwise-run-span:{run_id}", 8)


def trace_id_of(root_run_id: int) -> int:
    return _id(f"stepwise-trace:{root_run_id}", 16)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _ns(moment: datetime | None) -> int | None:
    # Whole microseconds, in integers: a float timestamp would blur them.
    if moment is None:
        return None
    return (moment - _EPOCH) // timedelta(microseconds=1) * 1000


def _lineage(run: Run) -> tuple[int, int | None]:
    """(the root run's id, the parent run's id) of a run."""
    parent_id = run.parent_id
    root, current = run.pk, parent_id
    for _ in range(MAX_PARENT_HOPS):
        if current is None:
            break
        root = current
        current = Run.objects.filter(pk=current).values_list("parent_id", flat=True).first()
    return root, parent_id


def _context_of(trace_id: int, span_id: int) -> Any:
    parent = SpanContext(
        trace_id=trace_id,
        span_id=span_id,
        is_remote=True,
        trace_flags=TraceFlags(TraceFlags.SAMPLED),
    )
    return trace.set_span_in_context(NonRecordingSpan(parent))


def write_step_span(tracer: trace.Tracer, record: StepRecord, run: Run) -> None:
    root, _ = _lineage(run)
    span = tracer.start_span(
        f"step {record.name}",
        context=_context_of(trace_id_of(root), run_span_id(run.pk)),
        kind=SpanKind.INTERNAL,
        start_time=_ns(record.started_at),
        attributes={
            "stepwise.run_id": run.pk,
            "stepwise.workflow": run.workflow,
            "stepwise.step": record.name,
            "stepwise.step.kind": record.kind,
            "stepwise.step.seq": record.seq,
            "stepwise.step.branch": record.branch,
            "stepwise.step.attempt": record.attempt,
            "stepwise.step.status": record.status,
        },
    )
    if record.status in ("failed", "retrying"):
        error = record.error if isinstance(record.error, dict) else {}
        span.set_status(Status(StatusCode.ERROR, str(error.get("message", ""))[:500]))
        span.set_attribute("error.type", str(error.get("type", "Error")))
    span.end(end_time=_ns(record.finished_at) or _ns(record.started_at))


def write_run_span(tracer: trace.Tracer, run: Run) -> None:
    root, parent_id = _lineage(run)
    context = _context_of(trace_id_of(root), run_span_id(parent_id)) if parent_id else None
    token = _planned.set((trace_id_of(root), run_span_id(run.pk)))
    try:
        span = tracer.start_span(
            f"run {run.workflow}",
            context=context,
            kind=SpanKind.INTERNAL,
            start_time=_ns(run.created_at),
            attributes={
                "stepwise.run_id": run.pk,
                "stepwise.workflow": run.workflow,
                "stepwise.version": run.version,
                "stepwise.trigger": run.trigger,
                "stepwise.status": run.status,
            },
        )
    finally:
        _planned.reset(token)
    if run.status != "completed":
        error = run.error if isinstance(run.error, dict) else {}
        span.set_status(Status(StatusCode.ERROR, str(error.get("message", run.status))[:500]))
    span.end(end_time=_ns(run.finished_at) or _ns(run.created_at))


def _on_step_changed(sender: Any, run_id: int, status: str, **announced: Any) -> None:
    if _tracer is None or status not in ENDED_STEPS:
        return
    try:
        record = (
            StepRecord.objects.filter(
                run_id=run_id,
                seq=announced["seq"],
                branch=announced["branch"],
                attempt=announced["attempt"],
            )
            .select_related("run")
            .order_by("-id")
            .first()
        )
        if record is not None:
            write_step_span(_tracer, record, record.run)
    except Exception:  # tracing must never fail a step
        logger.exception("could not trace a step of run %s", run_id)


def _on_run_changed(sender: Any, run_id: int, status: str, **announced: Any) -> None:
    if _tracer is None or status not in TERMINAL_STATUSES:
        return
    try:
        run = Run.objects.filter(pk=run_id).first()
        if run is not None:
            write_run_span(_tracer, run)
    except Exception:  # tracing must never fail a run
        logger.exception("could not trace run %s", run_id)


def exporter_from_settings() -> SpanExporter | None:
    kind = str(getattr(settings, "STEPWISE_OTEL_EXPORTER", "") or "").lower()
    if not kind:
        return None
    if kind == "console":
        return ConsoleSpanExporter()
    if kind == "otlp":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter()
    raise ValueError(f"STEPWISE_OTEL_EXPORTER: {kind!r} is not otlp or console")


def install_tracing(processor: SpanProcessor | None = None) -> trace.Tracer | None:
    """Trace runs and steps through `processor` (a batch processor over the configured
    exporter when None); nothing when no exporter is configured. Returns the tracer."""
    global _tracer
    if processor is None:
        exporter = exporter_from_settings()
        if exporter is None:
            return None
        processor = BatchSpanProcessor(exporter)
    provider = TracerProvider(
        resource=Resource.create({"service.name": "stepwise"}), id_generator=_PlannedIds()
    )
    provider.add_span_processor(processor)
    _tracer = provider.get_tracer("stepwise")
    step_changed.connect(_on_step_changed, dispatch_uid="stepwise-trace-steps")
    run_changed.connect(_on_run_changed, dispatch_uid="stepwise-trace-runs")
    return _tracer


def uninstall_tracing() -> None:
    global _tracer
    _tracer = None
    step_changed.disconnect(dispatch_uid="stepwise-trace-steps")
    run_changed.disconnect(dispatch_uid="stepwise-trace-runs")
