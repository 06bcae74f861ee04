"""Starting workflows from events: code subscriptions (`on`) and graph `trigger.event` nodes.

Each new event starts each subscribed workflow at most once: the run's idempotency key is
derived from the event id, inside the transaction that stores the event, so a redelivered or
duplicate event (which the mailbox ignores anyway) can never start a second run.
"""

import hashlib
import json
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from engine.core.expressions import (
    ExpressionError,
    compile_expression,
    evaluate_condition,
)
from engine.core.triggers import EventSubscription, subscriptions_for
from engine.models import Event, EventTrigger, GraphVersion
from engine.runtime.debounce import debounce_start
from engine.runtime.resolving import UnknownWorkflow
from engine.runtime.runs import create_run

logger = logging.getLogger(__name__)

WEBHOOK_PREFIX = "webhook:"
"""EventTrigger rows of `trigger.webhook` nodes have event type `webhook:<endpoint slug>`: never a
Noun.verb, so no event can match them."""

KEY_MAX = 200


def bounded(text: str, limit: int = KEY_MAX) -> str:
    """The text, or when too long for its column a readable prefix and a digest of the whole."""
    if len(text) <= limit:
        return text
    digest = hashlib.sha256(text.encode()).hexdigest()[:32]
    return f"{text[: limit - 33]}~{digest}"


def event_run_key(event_id: str, name: str = "") -> str:
    """The idempotency key of the run one subscription starts for one event."""
    return bounded(f"event:{event_id}" + (f":{name}" if name else ""))


@dataclass(frozen=True)
class _Target:
    """One subscription, code or graph, as the matcher sees it."""

    workflow: str
    name: str
    filter: str
    debounce_key: str
    debounce_seconds: float | None
    delay: float | None
    input_for: Callable[[Any], Any]
    priority: int
    # Debounce windows of different nodes or functions of one workflow stay apart.
    window: str


def _code_target(subscription: EventSubscription) -> _Target:
    debounce = subscription.debounce
    return _Target(
        workflow=subscription.workflow,
        name=subscription.name,
        filter=subscription.filter or "",
        debounce_key=(debounce.key or "") if debounce else "",
        debounce_seconds=debounce.seconds if debounce else None,
        delay=subscription.delay,
        input_for=subscription.input_for,
        priority=subscription.priority,
        window=subscription.name or "on",
    )


def _graph_target(trigger: EventTrigger) -> _Target:
    return _Target(
        workflow=trigger.workflow,
        # Several trigger.event nodes of one graph still start it once per event.
        name="",
        filter=trigger.filter,
        debounce_key=trigger.debounce_key,
        debounce_seconds=trigger.debounce_seconds,
        delay=None,
        input_for=lambda payload: payload,
        priority=trigger.priority,
        window=trigger.node,
    )


def start_subscribed(event: Event) -> list[int]:
    """Inside the transaction that stored a new event: start (or debounce) what it triggers.

    A subscription that cannot act on this event (its filter or key fails on the payload, its
    workflow is gone, its input function raises) is skipped and logged; the event and the
    other subscriptions go on.
    """
    if event.depth > settings.STEPWISE_EVENT_CHAIN_LIMIT:
        logger.warning(
            "event %s (%s) is %d runs deep in a chain of emitted events, over "
            "STEPWISE_EVENT_CHAIN_LIMIT=%d: it starts no workflows",
            event.event_id,
            event.type,
            event.depth,
            settings.STEPWISE_EVENT_CHAIN_LIMIT,
        )
        return []
    targets = [_code_target(found) for found in subscriptions_for(event.type)]
    targets += [
        _graph_target(trigger)
        for trigger in EventTrigger.objects.filter(event_type=event.type).order_by(
            "workflow", "node"
        )
    ]
    started: dict[int, None] = {}
    for target in targets:
        try:
            with transaction.atomic():
                run_id = _start(target, event)
        except (ExpressionError, UnknownWorkflow, TypeError, ValueError) as error:
            logger.warning(
                "event %s (%s) did not start %s: %s",
                event.event_id,
                event.type,
                target.workflow,
                error,
            )
            continue
        except Exception:
            logger.exception(
                "event %s (%s) did not start %s", event.event_id, event.type, target.workflow
            )
            continue
        if run_id is not None:
            started[run_id] = None
    return list(started)


def _start(target: _Target, event: Event) -> int | None:
    scope = {"event": event.payload}
    if target.filter and not evaluate_condition(
        compile_expression(target.filter, field="filter"), scope
    ):
        return None
    run_input = target.input_for(event.payload)
    if target.debounce_seconds:
        value = (
            compile_expression(target.debounce_key, field="debounce.key").evaluate(scope)
            if target.debounce_key
            else ""
        )
        text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
        debounce_start(
            target.workflow,
            bounded(f"{target.window}:{text}"),
            run_input,
            target.debounce_seconds,
            priority=target.priority,
        )
        return None
    start_at = timezone.now() + timedelta(seconds=target.delay) if target.delay else None
    run = create_run(
        target.workflow,
        run_input,
        trigger="event",
        trigger_ref=event.event_id,
        idempotency_key=event_run_key(event.event_id, target.name),
        start_at=start_at,
        priority=target.priority,
    )
    return run.pk


# --- graph subscriptions ------------------------------------------------------------------
def graph_triggers(slug: str, graph: Mapping[str, Any]) -> list[EventTrigger]:
    """Unsaved EventTrigger rows for a graph's `trigger.event` and `trigger.webhook` nodes."""
    rows: list[EventTrigger] = []
    for node in graph.get("nodes", []):
        config = node.get("config") or {}
        if node.get("type") == "trigger.event":
            debounce = config.get("debounce") or {}
            for event_type in dict.fromkeys(config.get("event_types") or []):
                rows.append(
                    EventTrigger(
                        workflow=slug,
                        node=node["id"],
                        event_type=event_type,
                        filter=config.get("filter") or "",
                        debounce_key=debounce.get("key") or "",
                        debounce_seconds=debounce.get("seconds"),
                        priority=config.get("priority", 0),
                    )
                )
        elif node.get("type") == "trigger.webhook" and config.get("endpoint"):
            rows.append(
                EventTrigger(
                    workflow=slug,
                    node=node["id"],
                    event_type=WEBHOOK_PREFIX + config["endpoint"],
                    priority=config.get("priority", 0),
                )
            )
    return rows


def sync_event_triggers(slug: str) -> list[EventTrigger]:
    """Subscribe a graph workflow as its newest live version says; none when it has none.

    Called when a version is published and when a workflow is deleted (its versions retired).
    """
    # The newest version whose triggers are active: one waiting for an operator starts nothing.
    version = (
        GraphVersion.objects.filter(workflow=slug, retired=False, triggers_active=True)
        .order_by("-number")
        .first()
    )
    wanted = [] if version is None else graph_triggers(slug, version.graph)
    with transaction.atomic():
        EventTrigger.objects.filter(workflow=slug).delete()
        return EventTrigger.objects.bulk_create(wanted)


def sync_all_event_triggers() -> int:
    """Subscribe every graph workflow anew (after an upgrade, or to repair the table)."""
    slugs = GraphVersion.objects.filter(retired=False).values_list("workflow", flat=True)
    count = 0
    with transaction.atomic():
        EventTrigger.objects.exclude(workflow__in=slugs).delete()
        for slug in sorted(set(slugs)):
            count += len(sync_event_triggers(slug))
    return count


def webhook_subscribers(endpoint_slug: str) -> Iterable[EventTrigger]:
    """The graph workflows whose newest version starts on deliveries to this endpoint."""
    return EventTrigger.objects.filter(event_type=WEBHOOK_PREFIX + endpoint_slug).order_by(
        "workflow", "node"
    )


def webhook_starts(endpoint_slug: str) -> Iterator[tuple[EventTrigger, Any]]:
    """Each subscriber of this endpoint with its node's input template (None: the payload as it
    came), read from the newest live version, the one that subscribed it."""
    graphs: dict[str, Mapping[str, Any] | None] = {}
    for trigger in webhook_subscribers(endpoint_slug):
        if trigger.workflow not in graphs:
            version = (
                GraphVersion.objects.filter(workflow=trigger.workflow, retired=False)
                .order_by("-number")
                .first()
            )
            graphs[trigger.workflow] = None if version is None else version.graph
        graph = graphs[trigger.workflow]
        nodes = {node.get("id"): node for node in (graph or {}).get("nodes", [])}
        node = nodes.get(trigger.node)
        if node is not None:
            yield trigger, (node.get("config") or {}).get("input")
