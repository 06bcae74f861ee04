"""Whose eyes see a run's sensitive input fields, and the mask for everyone else.

The rule (docs/sensitive-data.md): roles decide, through the `read_sensitive` capability
(operators and superusers). Nothing a user writes (the run's input, its starter, a schema
field) widens it; a schema field marked sensitive only narrows what others see.
"""

import copy
from dataclasses import replace
from typing import Any

from django.contrib.auth.models import AnonymousUser, User

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
    "mask_for",
    "page_mask_for",
    "refuse_sensitive_matches",
    "run_mask",
    "sees_clear",
    "shown_run",
    "shown_step",
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


def sees_clear(user: User | AnonymousUser) -> bool:
    return can(user, Capability.READ_SENSITIVE)


def mask_for(user: User | AnonymousUser, run: Run) -> Mask:
    """NO_MASK for a user whose roles may read sensitive values, else the run's mask."""
    return NO_MASK if sees_clear(user) else run_mask(run)


def page_mask_for(user: User | AnonymousUser, run: Run) -> Mask:
    """mask_for, with the words pages show instead of the API's token."""
    return replace(mask_for(user, run), token=PAGE_MASK)


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


def refuse_sensitive_matches(query: RunQuery, user: User | AnonymousUser) -> None:
    """A `match` filter compares stored values: for a reader who may not read sensitive input
    it would tell whether a run was given one (`input.email = ada@…`). Refused (a
    RunQueryError naming `match`) when a workflow the query may list marks input sensitive."""
    if not query.matches or sees_clear(user):
        return
    if query.workflow:
        slugs = [query.workflow]
    else:
        slugs = [definition.slug for definition in all_workflows()]
        slugs += GraphVersion.objects.values_list("workflow", flat=True).distinct()
    for slug in slugs:
        try:
            schema = resolve(slug).definition.input_schema
        except UnknownWorkflow:
            continue
        if sensitive_paths(schema):
            raise RunQueryError(
                "match",
                f"workflow {slug!r} marks input fields sensitive: filtering on values needs a "
                "role that may read them (filter by another workflow)",
            )
