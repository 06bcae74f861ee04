"""The record node creates (exactly once per step), reads, updates, deletes, lists and queries
JSON records in named collections."""

from typing import Any

import pytest

from engine.core.errors import NonRetryableError
from engine.graph.nodes import records
from engine.graph.nodes.base import CheckContext, NodeContext
from engine.models import Record

ORDER = {"id": 1042, "customer": "ada", "total": 99.5, "items": [{"sku": "A-1"}]}


def run(config: dict[str, Any], key: str = "stepwise:5:1:save", **scope: Any) -> Any:
    context = NodeContext(
        node_id="save",
        config={"collection": "Orders", **config},
        scope={"input": ORDER, **scope},
        idempotency_key=key,
    )
    return records.execute(context).output


@pytest.mark.django_db
def test_create_get_update_delete() -> None:
    """A record goes through its life: templated key and data, merge, replace, delete."""
    created = run(
        {"operation": "create", "key": "{{ input.id }}", "data": {"order": "{{ input }}"}}
    )
    assert created["collection"] == "Orders"
    assert created["key"] == "1042"
    assert created["data"] == {"order": ORDER}
    assert created["created_at"] == created["updated_at"]

    assert run({"operation": "get", "key": "1042"}) == created
    assert run({"operation": "get", "key": "404"}) is None

    merged = run({"operation": "update", "key": "1042", "data": {"status": "{{ s }}"}}, s="paid")
    assert merged["data"] == {"order": ORDER, "status": "paid"}
    assert merged["updated_at"] > created["updated_at"]
    replaced = run({"operation": "update", "key": "1042", "data": {"v": 2}, "replace": True})
    assert replaced["data"] == {"v": 2}

    assert run({"operation": "delete", "key": "1042"})["data"] == {"v": 2}
    assert not Record.objects.filter(collection="Orders").exists()


@pytest.mark.django_db
def test_missing_keys_in_update_and_delete_fail_naming_the_key() -> None:
    """update/delete of a missing key raise a NonRetryableError naming it, unless missing_ok."""
    for operation in ("update", "delete"):
        with pytest.raises(records.RecordNotFound, match="Orders has no record with key 'k-9'"):
            run({"operation": operation, "key": "k-9", "data": {}})
        assert run({"operation": operation, "key": "k-9", "data": {}, "missing_ok": True}) is None
    assert issubclass(records.RecordNotFound, NonRetryableError)


@pytest.mark.django_db
def test_create_is_exactly_once_per_step() -> None:
    """A retried create (same idempotency key) returns the record it made, even when the key
    was generated; another step creating the same key fails for good."""
    first = run({"operation": "create", "data": {"n": 1}})
    again = run({"operation": "create", "data": {"n": 2}})
    assert again == first
    assert len(first["key"]) == 32
    assert Record.objects.count() == 1

    run({"operation": "create", "key": "fixed"}, key="stepwise:5:2:save")
    with pytest.raises(records.RecordExists, match="Orders already has a record with key 'fixed'"):
        run({"operation": "create", "key": "fixed"}, key="stepwise:6:2:save")
    assert Record.objects.count() == 2


@pytest.mark.django_db
def test_list_and_query_filter_sort_and_limit() -> None:
    """query matches top-level fields by equality (strings, numbers, booleans, null, a field
    named like a lookup); order_by sorts by a column or a data field; limit cuts."""
    people = [
        ("p1", {"segment": "vip", "age": 40, "active": True, "contains": "x"}),
        ("p2", {"segment": "vip", "age": 25, "active": False, "contains": "y"}),
        ("p3", {"segment": "new", "age": 31, "active": True, "contains": None}),
        ("p4", {"segment": "vip", "age": 33, "active": True, "contains": "x"}),
    ]
    for index, (key, data) in enumerate(people):
        run(
            {"operation": "create", "collection": "Person", "key": key, "data": data},
            key=f"stepwise:9:{index}:seed",
        )
    run({"operation": "create", "collection": "Other", "key": "p9", "data": {"segment": "vip"}})

    def keys(config: dict[str, Any], **scope: Any) -> list[str]:
        output = run({"collection": "Person", **config}, **scope)
        assert output["count"] == len(output["records"])
        return [record["key"] for record in output["records"]]

    assert keys({"operation": "list"}) == ["p1", "p2", "p3", "p4"]
    assert keys({"operation": "list", "order_by": "-created_at", "limit": 2}) == ["p4", "p3"]
    assert keys({"operation": "list", "order_by": "age"}) == ["p2", "p3", "p4", "p1"]
    assert keys({"operation": "list", "order_by": "-key"}) == ["p4", "p3", "p2", "p1"]
    where = {"segment": "{{ campaign.segment }}", "active": True}
    assert keys({"operation": "query", "where": where}, campaign={"segment": "vip"}) == ["p1", "p4"]
    assert keys({"operation": "query", "where": {"age": "{{ 25 }}"}}) == ["p2"]
    assert keys({"operation": "query", "where": {"contains": "x"}, "order_by": "age"}) == [
        "p4",
        "p1",
    ]
    assert keys({"operation": "query", "where": {"contains": None}}) == ["p3"]
    assert keys({"operation": "query", "where": {"segment": "none"}}) == []


@pytest.mark.django_db
def test_bad_names_are_refused_before_any_query() -> None:
    """Collection, where field and order_by names are checked; `__` never reaches the ORM."""
    with pytest.raises(records.RecordInvalid, match="not a collection name"):
        run({"operation": "list", "collection": "1bad"})
    with pytest.raises(records.RecordInvalid, match="not a field name"):
        run({"operation": "query", "where": {"segment__contains": "v"}})
    with pytest.raises(records.RecordInvalid, match="cannot be sorted on"):
        run({"operation": "list", "order_by": "data__x"})
    with pytest.raises(records.RecordInvalid, match="needs a key"):
        run({"operation": "get"})
    with pytest.raises(records.RecordInvalid, match="data must be a map"):
        run({"operation": "create", "data": "{{ input.items }}"})


def test_check_names_missing_keys_and_data() -> None:
    """Validation asks get/update/delete for a key and update for data."""
    context = CheckContext()
    problems = records.check("save", {"operation": "update", "collection": "Orders"}, context)
    assert [(p.field, p.message) for p in problems] == [
        ("config.key", "update needs the record's key"),
        ("config.data", "update needs the fields to change"),
    ]
    assert records.check("save", {"operation": "list", "collection": "Orders"}, context) == []
