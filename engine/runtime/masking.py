"""Whose eyes see a run's sensitive input fields, and the mask for everyone else.

The rule (docs/sensitive-data.md): roles decide, through the `read_sensitive` capability
(operators and superusers). Nothing a user writes (the run's input, its starter, a schema
field) widens it; a schema field marked sensitive only narrows what others see.
"""

import copy
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Count, Max

from accounts.roles import Capability, can
from engine.core.definitions import all_workflows
from engine.core.masking import MASK, NO_MASK, PAGE_MASK, Mask, sensitive_paths
from engine.models import GraphVersion, Run, StepRecord
from engine.runtime.resolving import UnknownWorkflow, resolve
from engine.runtime.run_search import RunQuery, RunQueryError

__all__ = [
    "MASK",
    "NO_MASK",
    "PAGE_MASK",
    "Mask",
    "guarded_query",
    "listed_masks",
    "mask_for",
    "page_mask_for",
    "run_mask",
    "sees_clear",
    "shown_run",
    "shown_step",
    "shown_summary",
]


def input_schema_of(workflow: str, version: str) -> dict[str, Any] | None:
    """The input schema of the definition a run is pinned to (None when it is gone)."""
    try:
        return resolve(workflow, version).definition.input_schema
    except UnknownWorkflow:
        return None


def run_mask(run: Run) -> Mask:
    """The mask of one run's data, from its input schema and its input."""
    return Mask.of(input_schema_of(run.workflow, run.version), run.input)


def listed_masks(
    user: User | AnonymousUser, runs: Sequence[Run], token: str = MASK
) -> dict[int, Mask]:
    """The masks of the runs in a list, by id, for this reader: each version's schema is
    resolved once, and the inputs of the runs whose version marks fields sensitive are read
    in one query (a list reads no input). Runs shown in clear are left out."""
    if sees_clear(user) or not runs:
        return {}
    schemas: dict[tuple[str, str], dict[str, Any] | None] = {}
    for run in runs:
        key = (run.workflow, run.version)
        if key not in schemas:
            schemas[key] = input_schema_of(*key)
    sensitive = [run.pk for run in runs if sensitive_paths(schemas[run.workflow, run.version])]
    inputs = dict(Run.objects.filter(pk__in=sensitive).values_list("pk", "input"))
    return {
        run.pk: Mask.of(schemas[run.workflow, run.version], inputs.get(run.pk), token)
        for run in runs
        if run.pk in inputs
    }


def shown_summary(run: Run, mask: Mask) -> Run:
    """A copy of a listed run (no input or output read) with its error and progress masked."""
    if mask is NO_MASK:
        return run
    shown = copy.copy(run)
    shown.error = mask.value(run.error)
    shown.progress = mask.value(run.progress, numbers=False)
    return shown


def sees_clear(user: User | AnonymousUser) -> bool:
    return can(user, Capability.READ_SENSITIVE)


def mask_for(user: User | AnonymousUser, run: Run) -> Mask:
    """NO_MASK for a user whose roles may read sensitive values, else the run's mask."""
    return NO_MASK if sees_clear(user) else run_mask(run)


def page_mask_for(user: User | AnonymousUser, run: Run) -> Mask:
    """mask_for, with the words pages show instead of the API's token."""
    mask = mask_for(user, run)
    return mask if mask is NO_MASK else replace(mask, token=PAGE_MASK)


def shown_run(run: Run, mask: Mask) -> Run:
    """A copy of the run for showing, its data masked. Never saved: the copy is for reading."""
    if mask is NO_MASK:
        return run
    shown = copy.copy(run)
    shown.input = mask.input(run.input)
    shown.output = mask.value(run.output)
    shown.error = mask.value(run.error)
    shown.progress = mask.value(run.progress, numbers=False)
    return shown


def shown_step(record: StepRecord, mask: Mask) -> StepRecord:
    """A copy of a journal row for showing: its output, error, detail (arguments, rendered
    input) and log lines masked, and its name where a sensitive text made it. Never saved."""
    if mask is NO_MASK:
        return record
    shown = copy.copy(record)
    shown.name = mask.text(record.name)
    # A column the query left out is not read here (a query per row) but set to None: read
    # later from the copy, it would come back from the database in clear.
    deferred = record.get_deferred_fields()
    for column in ("output", "error", "detail", "logs"):
        value = None if column in deferred else mask.value(getattr(record, column))
        setattr(shown, column, value)
    return shown


def guarded_query(query: RunQuery, user: User | AnonymousUser) -> RunQuery:
    """The query as this reader may run it. A `match` filter compares stored values, and
    `failed_step` step names a workflow may make from them: for a reader who may not read
    sensitive input either would tell whether a run was given one (`input.email = ada@…`), so
    they are refused (a RunQueryError naming the filter) when a version of a workflow the query
    may list marks input fields sensitive. The text search leaves those workflows' error text
    unread for such a reader (it still finds their runs by id and title)."""
    asked = "match" if query.matches else "failed_step" if query.failed_step else ""
    if not (asked or query.search) or sees_clear(user):
        return query
    sensitive = _workflows_marking_input_sensitive(query.workflow)
    if asked and sensitive:
        raise RunQueryError(
            asked,
            f"workflow {sensitive[0]!r} marks input fields sensitive: filtering on values "
            "needs a role that may read them (filter by another workflow)",
        )
    return replace(query, search_skips=tuple(sensitive)) if query.search else query


def _workflows_marking_input_sensitive(only: str = "") -> list[str]:
    """The workflows (sorted; only `only` when given) of which a version, code or graph, marks
    input fields sensitive."""
    return sorted(slug for slug in _marking_input_sensitive() if not only or slug == only)


# Which workflows mark input sensitive, with the versions it was worked out from: a search
# otherwise resolved every version's schema (a query per graph version) each time.
_marking: tuple[tuple[Any, ...], frozenset[str]] | None = None


def _marking_input_sensitive() -> frozenset[str]:
    """Every workflow a version of which marks input fields sensitive, worked out again only
    when the versions changed: a version row never changes, and a new one (from any process)
    raises the newest id and publication time, so one aggregate query tells (a deletion lowers
    the count). Retired versions count: runs stay pinned to them."""
    global _marking
    code = tuple(sorted((definition.slug, definition.version) for definition in all_workflows()))
    published = GraphVersion.objects.aggregate(
        count=Count("pk"), newest=Max("pk"), at=Max("published_at")
    )
    key = (code, published["count"], published["newest"], published["at"])
    known = _marking
    if known is not None and known[0] == key:
        return known[1]
    # Read after the key: a version published in between is included and changes the key.
    versions = set(code)
    graph_versions = GraphVersion.objects.order_by().values_list("workflow", "number")
    versions.update((slug, f"v{number}") for slug, number in graph_versions.distinct())
    slugs = frozenset(
        slug for slug, version in versions if sensitive_paths(input_schema_of(slug, version))
    )
    _marking = (key, slugs)
    return slugs
