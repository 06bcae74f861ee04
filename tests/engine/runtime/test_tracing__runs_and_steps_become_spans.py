"""OpenTelemetry: with an exporter configured, each step attempt and each run that ends becomes
a span written from the journal — steps as children of their run, a child run as a child of its
parent in the root run's trace, failures marked as errors — and without one, nothing is traced.
The exporter (a third-party service) is the SDK's in-memory one here."""

from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.utils import timezone
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from engine.messaging.signals import run_changed, step_changed
from engine.models import Run, StepRecord
from engine.runtime.tracing import (
    exporter_from_settings,
    install_tracing,
    run_span_id,
    trace_id_of,
    uninstall_tracing,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    install_tracing(SimpleSpanProcessor(exporter))
    yield exporter
    uninstall_tracing()


def ended_step(run: Run, seq: int, name: str, status: str, attempt: int = 1) -> StepRecord:
    started = run.created_at + timedelta(seconds=seq)
    record = StepRecord.objects.create(
        run=run, seq=seq, attempt=attempt, kind="step", name=name, status=status,
        error={"type": "HTTPError", "message": "503 from api"} if status != "completed" else None,
        started_at=started, finished_at=started + timedelta(milliseconds=250),
    )  # fmt: skip
    step_changed.send(
        sender=None, run_id=run.pk, seq=seq, branch=0, name=name, kind="step",
        status=status, attempt=attempt,
    )  # fmt: skip
    return record


def ended_run(run: Run, status: str) -> None:
    Run.objects.filter(pk=run.pk).update(
        status=status, finished_at=run.created_at + timedelta(seconds=5)
    )
    run_changed.send(sender=None, run_id=run.pk, workflow=run.workflow, status=status)


def test_steps_and_runs_become_one_trace(spans: InMemorySpanExporter) -> None:
    now = timezone.now()
    parent = Run.objects.create(workflow="orders", version="3", created_at=now, status="running")
    child = Run.objects.create(
        workflow="charge", version="1", created_at=now, status="running", parent=parent, depth=1
    )
    ended_step(child, 1, "charge", "retrying")
    ended_step(child, 1, "charge", "completed", attempt=2)
    step_changed.send(
        sender=None, run_id=child.pk, seq=2, branch=0, name="wait", kind="wait",
        status="waiting", attempt=1,
    )  # fmt: skip
    ended_run(child, "completed")
    ended_run(parent, "failed")

    by_name = {}
    for span in spans.get_finished_spans():
        by_name.setdefault(span.name, []).append(span)
    assert sorted(by_name) == ["run charge", "run orders", "step charge"]  # no span for a wait
    first, second = by_name["step charge"]
    (child_span,), (parent_span,) = by_name["run charge"], by_name["run orders"]
    trace_id = trace_id_of(parent.pk)
    assert {s.context.trace_id for s in (first, second, child_span, parent_span)} == {trace_id}
    assert parent_span.context.span_id == run_span_id(parent.pk) and parent_span.parent is None
    assert child_span.context.span_id == run_span_id(child.pk)
    assert child_span.parent is not None and child_span.parent.span_id == run_span_id(parent.pk)
    assert first.parent is not None and first.parent.span_id == run_span_id(child.pk)
    assert (first.status.status_code, second.status.status_code) == (
        StatusCode.ERROR,
        StatusCode.UNSET,
    )
    assert first.attributes is not None and first.attributes["stepwise.step.attempt"] == 1
    assert (first.end_time or 0) - (first.start_time or 0) == 250_000_000
    assert parent_span.status.status_code == StatusCode.ERROR
    assert (child_span.end_time or 0) - (child_span.start_time or 0) == 5_000_000_000


def test_nothing_is_traced_without_an_exporter(settings: object) -> None:
    assert exporter_from_settings() is None  # the test settings configure none
    assert install_tracing() is None


def test_a_misspelt_exporter_is_named(settings: object) -> None:
    settings.STEPWISE_OTEL_EXPORTER = "jaeger"  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="STEPWISE_OTEL_EXPORTER"):
        exporter_from_settings()
