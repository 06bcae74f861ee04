"""`action.record`: create, read, update, delete and query records in named collections.

Records are JSON documents keyed within a collection (`Orders/1042`), the graph counterpart of
the seed's `db.Orders.create(...)`. A create is exactly-once: the record remembers the step that
created it, so a retried or redelivered attempt returns that record instead of adding another.
"""

import json
import re
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet
from django.db.models.expressions import OrderBy
from django.db.models.fields.json import KeyTransform
from django.utils import timezone

from engine.core.errors import NonRetryableError
from engine.graph.nodes.base import (
    CheckContext,
    NodeContext,
    NodeResult,
    NodeType,
    Problem,
    register,
)
from engine.models import Record

OPERATIONS = ("create", "get", "update", "delete", "list", "query")
COLLECTION_PATTERN = r"^[A-Za-z][A-Za-z0-9_-]{0,99}$"
# No "__": a field name must never reach Django as a lookup ("status__contains").
FIELD_PATTERN = r"^(?!.*__)[A-Za-z_][A-Za-z0-9_-]{0,99}$"
ORDER_PATTERN = r"^-?(?!.*__)[A-Za-z_][A-Za-z0-9_-]{0,99}$"
# order_by names these columns; any other name is a top-level key of the data.
COLUMNS = ("created_at", "updated_at", "key")
MAX_KEY_LENGTH = 100
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
MAX_DATA_BYTES = 1_000_000
NEEDS_KEY = ("get", "update", "delete")

CONFIG_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "additionalProperties": False,
    "required": ["operation", "collection"],
    "properties": {
        "operation": {
            "title": "Operation",
            "description": "create, get, update or delete one record; list a collection; "
            "query it by field values.",
            "enum": list(OPERATIONS),
            "default": "create",
        },
        "collection": {
            "title": "Collection",
            "description": "The collection's name, e.g. Orders (a letter, then letters, "
            "digits, _ or -).",
            "type": "string",
            "pattern": COLLECTION_PATTERN,
        },
        "key": {
            "title": "Key",
            "description": "The record's key, a template (at most 100 characters). create "
            "makes a random one when it is left out.",
            "type": "string",
            "maxLength": 1000,
        },
        "data": {
            "title": "Data",
            "description": "The record's fields (strings inside are templates). update merges "
            "them into the record's top-level fields unless Replace is on.",
            "type": "object",
        },
        "replace": {
            "title": "Replace",
            "description": "update replaces all of the record's data instead of merging.",
            "type": "boolean",
            "default": False,
        },
        "missing_ok": {
            "title": "Missing is fine",
            "description": "update and delete of a key that does not exist give null instead "
            "of failing.",
            "type": "boolean",
            "default": False,
        },
        "where": {
            "title": "Where",
            "description": "query: field → value (a template); records whose top-level field "
            "equals every value.",
            "type": "object",
            "propertyNames": {"pattern": FIELD_PATTERN},
        },
        "order_by": {
            "title": "Order by",
            "description": "created_at, updated_at, key or a data field; a leading - sorts "
            "descending.",
            "type": "string",
            "pattern": ORDER_PATTERN,
            "default": "created_at",
        },
        "limit": {
            "title": "Limit",
            "description": f"list and query return at most this many records (≤ {MAX_LIMIT}).",
            "type": "integer",
            "minimum": 1,
            "maximum": MAX_LIMIT,
            "default": DEFAULT_LIMIT,
        },
    },
}


class RecordNotFound(NonRetryableError):
    """update or delete named a key the collection does not hold."""


class RecordExists(NonRetryableError):
    """create named a key the collection already holds (and another step created it)."""


class RecordInvalid(NonRetryableError):
    """The configuration or the rendered key, data or filter cannot be used."""


def execute(ctx: NodeContext) -> NodeResult:
    operation = ctx.config.get("operation")
    handler = _HANDLERS.get(operation) if isinstance(operation, str) else None
    if handler is None:
        raise RecordInvalid(f"operation must be one of {', '.join(OPERATIONS)}")
    collection = ctx.config.get("collection")
    if not isinstance(collection, str) or not re.match(COLLECTION_PATTERN, collection):
        raise RecordInvalid(f"{collection!r} is not a collection name")
    with transaction.atomic():
        return NodeResult(output=handler(ctx, collection))


def _create(ctx: NodeContext, collection: str) -> dict[str, Any]:
    data = _data(ctx, default={})
    step = ctx.idempotency_key or None
    if step is not None:
        done = Record.objects.filter(created_by_step=step).first()
        if done is not None:
            return record_as_json(done)
    key = _key(ctx, required=False) or uuid.uuid4().hex
    now = timezone.now()
    try:
        with transaction.atomic():  # a savepoint, so the lookup below can still run
            record = Record.objects.create(
                collection=collection,
                key=key,
                data=data,
                created_at=now,
                updated_at=now,
                created_by_step=step,
            )
    except IntegrityError:
        # Another attempt of this very step (a redelivered message) may have won the race.
        if step is not None:
            done = Record.objects.filter(created_by_step=step).first()
            if done is not None:
                return record_as_json(done)
        raise RecordExists(f"{collection} already has a record with key {key!r}") from None
    return record_as_json(record)


def _get(ctx: NodeContext, collection: str) -> dict[str, Any] | None:
    record = Record.objects.filter(collection=collection, key=_key(ctx)).first()
    return record_as_json(record) if record is not None else None


def _update(ctx: NodeContext, collection: str) -> dict[str, Any] | None:
    key = _key(ctx)
    data = _data(ctx, default=None)
    record = Record.objects.select_for_update().filter(collection=collection, key=key).first()
    if record is None:
        return _missing(ctx, collection, key)
    if ctx.config.get("replace"):
        record.data = data
    else:
        current = record.data if isinstance(record.data, dict) else {}
        record.data = {**current, **data}
    record.updated_at = timezone.now()
    record.save(update_fields=["data", "updated_at"])
    return record_as_json(record)


def _delete(ctx: NodeContext, collection: str) -> dict[str, Any] | None:
    key = _key(ctx)
    record = Record.objects.select_for_update().filter(collection=collection, key=key).first()
    if record is None:
        return _missing(ctx, collection, key)
    deleted = record_as_json(record)
    record.delete()
    return deleted


def _missing(ctx: NodeContext, collection: str, key: str) -> dict[str, Any] | None:
    """None when missing_ok allows it; an error naming the key otherwise."""
    if ctx.config.get("missing_ok"):
        return None
    raise RecordNotFound(f"{collection} has no record with key {key!r}")


def _list(ctx: NodeContext, collection: str) -> dict[str, Any]:
    return _listing(ctx, Record.objects.filter(collection=collection))


def _query(ctx: NodeContext, collection: str) -> dict[str, Any]:
    where = ctx.render("where", {})
    if not isinstance(where, Mapping):
        raise RecordInvalid("where must be a map of field → value")
    records = Record.objects.filter(collection=collection)
    for index, (field, value) in enumerate(where.items()):
        _check_field(field, "where")
        # KeyTransform is what `data__<field>` builds, minus the parsing: a field named
        # "contains" or "isnull" stays a key instead of turning into a lookup. Its exact
        # lookup compares JSON values on PostgreSQL and SQLite alike (null matches JSON null).
        alias = f"_where_{index}"
        records = records.alias(**{alias: KeyTransform(field, "data")}).filter(**{alias: value})
    return _listing(ctx, records)


def _listing(ctx: NodeContext, records: QuerySet[Record]) -> dict[str, Any]:
    limit = ctx.config.get("limit", DEFAULT_LIMIT)
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise RecordInvalid(f"limit must be a whole number from 1 to {MAX_LIMIT}")
    found = [record_as_json(record) for record in records.order_by(*_ordering(ctx))[:limit]]
    return {"records": found, "count": len(found)}


def _ordering(ctx: NodeContext) -> list[OrderBy]:
    order_by = ctx.config.get("order_by") or "created_at"
    if not isinstance(order_by, str) or not re.match(ORDER_PATTERN, order_by):
        raise RecordInvalid(f"{order_by!r} cannot be sorted on")
    descending = order_by.startswith("-")
    name = order_by.lstrip("-")
    expression: F | KeyTransform = F(name) if name in COLUMNS else KeyTransform(name, "data")
    # The primary key breaks ties, so equal values list in a stable order on every backend.
    if descending:
        return [expression.desc(nulls_last=True), F("id").desc()]
    return [expression.asc(nulls_last=True), F("id").asc()]


def _key(ctx: NodeContext, *, required: bool = True) -> str:
    rendered = ctx.render("key")
    if rendered is None or rendered == "":
        if required:
            raise RecordInvalid(f"{ctx.config.get('operation')} needs a key")
        return ""
    if isinstance(rendered, bool) or not isinstance(rendered, str | int):
        raise RecordInvalid(f"the key must be text or a number, got {type(rendered).__name__}")
    key = str(rendered)
    if len(key) > MAX_KEY_LENGTH:
        raise RecordInvalid(f"the key is {len(key)} characters; the limit is {MAX_KEY_LENGTH}")
    if any(ord(char) < 32 for char in key):
        raise RecordInvalid("the key holds control characters")
    return key


def _data(ctx: NodeContext, *, default: dict[str, Any] | None) -> dict[str, Any]:
    if "data" not in ctx.config:
        if default is None:
            raise RecordInvalid(f"{ctx.config.get('operation')} needs data")
        return default
    data = ctx.render("data")
    if not isinstance(data, dict):
        raise RecordInvalid(f"data must be a map of fields, got {type(data).__name__}")
    try:
        size = len(json.dumps(data))
    except (TypeError, ValueError) as exc:
        raise RecordInvalid(f"data is not JSON: {exc}") from None
    if size > MAX_DATA_BYTES:
        raise RecordInvalid(f"data is {size:,} bytes as JSON; the limit is {MAX_DATA_BYTES:,}")
    return data


def _check_field(field: Any, where: str) -> None:
    if not isinstance(field, str) or not re.match(FIELD_PATTERN, field):
        raise RecordInvalid(f"{where}: {field!r} is not a field name")


def record_as_json(record: Record) -> dict[str, Any]:
    """The output shape of one record."""
    return {
        "collection": record.collection,
        "key": record.key,
        "data": record.data,
        "created_at": record.created_at.isoformat(),
        "updated_at": record.updated_at.isoformat(),
    }


_HANDLERS: dict[str, Callable[[NodeContext, str], Any]] = {
    "create": _create,
    "get": _get,
    "update": _update,
    "delete": _delete,
    "list": _list,
    "query": _query,
}


def check(node_id: str, config: Mapping[str, Any], context: CheckContext) -> list[Problem]:
    """get, update and delete need a key; update needs data; a static key must fit."""
    operation = config.get("operation")
    problems: list[Problem] = []
    key = config.get("key")
    if operation in NEEDS_KEY and not (isinstance(key, str) and key.strip()):
        problems.append(Problem(node_id, "config.key", f"{operation} needs the record's key"))
    elif isinstance(key, str) and "{{" not in key and len(key) > MAX_KEY_LENGTH:
        problems.append(
            Problem(node_id, "config.key", f"a key is at most {MAX_KEY_LENGTH} characters")
        )
    if operation == "update" and "data" not in config:
        problems.append(Problem(node_id, "config.data", "update needs the fields to change"))
    return problems


register(
    NodeType(
        type="action.record",
        group="actions",
        title="Record",
        description="Create, get, update, delete, list or query records in a collection.",
        config_schema=CONFIG_SCHEMA,
        templates=("key", "data", "where.*"),
        execute=execute,
        side_effects=True,
        error_handling=True,
        check=check,
        icon="database",
        defaults={"operation": "create", "collection": "", "data": {}},
    )
)
