"""Whole-workflow results cached by input, for workflows declared with cache=."""

import hashlib
import json

from django.core.cache import cache

from engine.core.values import JSON
from engine.models import Run
from engine.runtime.resolving import resolve

_MISSING = object()


def _key(workflow: str, input: JSON) -> str:
    payload = json.dumps([workflow, input], sort_keys=True, default=str)
    return "stepwise:workflow:" + hashlib.sha256(payload.encode()).hexdigest()


def cached_output(workflow: str, input: JSON) -> tuple[bool, JSON]:
    value = cache.get(_key(workflow, input), _MISSING)
    return (False, None) if value is _MISSING else (True, value)


def remember_output(run: Run) -> None:
    try:
        ttl = resolve(run.workflow).definition.cache_ttl
    except LookupError:
        return
    if ttl:
        cache.set(_key(run.workflow, run.input), run.output, timeout=ttl)
