"""Finding runs among many (engine.runtime.run_search) on PostgreSQL: each filter keeps exactly
the runs it names, the text search reads ids, titles, slugs and errors, keyset pages neither
skip nor repeat a run while new ones arrive, and a bad value is refused naming its field."""

from datetime import datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.http import QueryDict
from django.utils import timezone

from engine.models import GraphVersion, Run, StepRecord
from engine.runtime.run_search import (
    RunQuery,
    RunQueryError,
    find_runs,
    parse_run_query,
    workflow_titles,
)

pytestmark = pytest.mark.django_db

NOW = timezone.now().replace(microsecond=0)


def run(
    workflow: str = "billing",
    *,
    status: str = "completed",
    ago: timedelta = timedelta(minutes=5),
    took: timedelta | None = timedelta(seconds=2),
    **fields: Any,
) -> Run:
    created = NOW - ago
    finished = created + took if took is not None else None
    return Run.objects.create(
        workflow=workflow,
        version=fields.pop("version", "v1"),
        status=status,
        created_at=created,
        started_at=created,
        finished_at=finished,
        **fields,
    )


def ids(**params: Any) -> list[int]:
    query = parse_run_query(params)
    return [found.pk for found in find_runs(query, NOW).runs]


def test_each_filter_keeps_only_the_runs_it_names(make_user: Any) -> None:
    ana = make_user("ana", "operators")
    old = run(ago=timedelta(days=3))
    failed = run(status="failed", ago=timedelta(minutes=30), error={"message": "card declined"})
    StepRecord.objects.create(
        run=failed, seq=1, kind="step", name="charge-card", status="failed", started_at=NOW
    )
    waiting = run("onboarding", status="waiting", took=None, created_by=ana, trigger="manual")
    slow = run(took=timedelta(minutes=10), version="v2", input={"customer": "acme", "n": 3})
    other_customer = run(input={"customer": "globex"}, output={"total": 12, "lines": [1]})

    assert ids(workflow="onboarding") == [waiting.pk]
    assert ids(version="v2") == [slow.pk]
    assert set(ids(status=["failed", "waiting"])) == {failed.pk, waiting.pk}
    assert set(ids(status="failed,waiting")) == {failed.pk, waiting.pk}
    assert ids(trigger="manual") == [waiting.pk]
    assert ids(started_by="ana") == [waiting.pk]
    assert old.pk not in ids(within="24h") and failed.pk in ids(within="1h")
    after = (NOW - timedelta(days=1)).isoformat()
    assert old.pk not in ids(started_after=after)
    assert ids(started_before=after) == [old.pk]
    assert ids(min_duration="60") == [slow.pk]
    assert ids(failed_step="charge-card") == [failed.pk]
    assert ids(failed_step="ship") == []
    # JSON values compare as JSON, anything else as text; nested keys and output too.
    assert ids(match="input.customer = acme") == [slow.pk]
    assert ids(match="input.n = 3") == [slow.pk]
    assert ids(match='input.n = "3"') == []
    assert ids(match="output.total = 12") == [other_customer.pk]
    assert ids(match=["input.customer = globex", "output.total = 12"]) == [other_customer.pk]
    assert ids(match=["input.customer = acme", "output.total = 12"]) == []
    # Filters combine.
    assert ids(workflow="billing", status="failed", within="1h") == [failed.pk]


def test_the_text_search_reads_ids_titles_slugs_and_errors() -> None:
    GraphVersion.objects.create(
        workflow="refunds", number=1, title="Old name", graph={}, published_at=NOW
    )
    GraphVersion.objects.create(
        workflow="refunds", number=2, title="Customer refunds", graph={}, published_at=NOW
    )
    refund = run("refunds")
    failed = run(status="failed", error={"type": "StepFailed", "message": "Card DECLINED by bank"})
    gone = run("retired-flow")
    assert workflow_titles()["refunds"] == "Customer refunds"
    assert ids(q="customer ref") == [refund.pk]
    assert ids(q="declined") == [failed.pk]
    assert ids(q="etired-fl") == [gone.pk]
    assert ids(q=f"#{gone.pk}") == [gone.pk]
    assert ids(q="100%_") == []  # LIKE wildcards are text here


def test_pages_neither_skip_nor_repeat_runs_while_new_ones_arrive() -> None:
    made = [
        run(ago=timedelta(minutes=index % 7), took=timedelta(seconds=index)) for index in range(23)
    ]
    for sort in ("-started", "started", "-duration", "duration"):
        seen: list[int] = []
        query = parse_run_query({"sort": sort, "limit": "5"})
        while True:
            page = find_runs(query, NOW)
            seen += [found.pk for found in page.runs]
            # A new run arrives between pages: newest first, it lands before the cursor.
            run(ago=timedelta(0), took=None)
            if not page.next_cursor:
                break
            query = parse_run_query({"sort": sort, "limit": "5", "cursor": page.next_cursor})
        if sort.endswith("duration"):
            assert sorted(seen) == sorted(found.pk for found in made), sort
        else:
            assert len(seen) == len(set(seen)), sort
            assert {found.pk for found in made} <= set(seen), sort
            if sort == "-started":
                assert set(seen) == {found.pk for found in made}, sort
        assert len(seen) == len(set(seen)), sort
    by_duration = find_runs(parse_run_query({"sort": "-duration", "limit": "3"}), NOW).runs
    assert [found.pk for found in by_duration] == [made[22].pk, made[21].pk, made[20].pk]


def test_the_page_reads_no_large_json_and_few_queries(django_assert_num_queries: Any) -> None:
    run(input={"big": "x" * 10_000})
    with django_assert_num_queries(1):
        page = find_runs(RunQuery(), NOW, titles={})
    assert "input" in page.runs[0].get_deferred_fields()


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "sleeping"}, "status"),
        ({"trigger": "telepathy"}, "trigger"),
        ({"within": "1y"}, "within"),
        ({"sort": "random"}, "sort"),
        ({"min_duration": "long"}, "min_duration"),
        ({"min_duration": "-1"}, "min_duration"),
        ({"limit": "0"}, "limit"),
        ({"limit": "many"}, "limit"),
        ({"started_after": "yesterday"}, "started_after"),
        ({"started_after": "2026-13-40"}, "started_after"),
        ({"started_after": "2026-12-06", "started_before": "2026-12-01"}, "started_before"),
        ({"match": "customer = acme"}, "match"),
        ({"match": "input. = 1"}, "match"),
        ({"match": ["input.a = 1"] * 6}, "match"),
        ({"cursor": "bm9wZQ"}, "cursor"),
        ({"cursor": "!!!"}, "cursor"),
        ({"q": "x" * 201}, "q"),
        ({"workflow": ["a", "b"]}, "workflow"),
        ({"workflow": {"a": 1}}, "workflow"),
    ],
)
def test_a_bad_value_is_refused_naming_its_field(params: dict[str, Any], field: str) -> None:
    with pytest.raises(RunQueryError) as refused:
        parse_run_query(params)
    assert refused.value.field == field
    assert str(refused.value).startswith(f"{field}: ")


def test_a_cursor_of_another_sort_is_refused() -> None:
    for _ in range(3):
        run()
    page = find_runs(parse_run_query({"limit": "1"}), NOW)
    with pytest.raises(RunQueryError) as refused:
        parse_run_query({"limit": "1", "sort": "-duration", "cursor": page.next_cursor})
    assert refused.value.field == "cursor"


def test_url_parameters_round_trip_through_the_query() -> None:
    params = QueryDict(mutable=True)
    params.setlist("status", ["failed", "cancelled"])
    params.setlist("match", ["input.customer = acme", "output.ok = true"])
    params.update({"workflow": "billing", "within": "1h", "sort": "started", "q": "boom"})
    query = parse_run_query(params)
    again = parse_run_query(query.as_params())
    assert again == query
    assert query.as_params()["status"] == ["failed", "cancelled"]
    assert query.matches[1].value is True


def test_the_containment_index_serves_input_matches() -> None:
    assert connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'engine_run' "
            "AND indexname IN ('run_input_contains', 'run_output_contains', 'run_search_text', "
            "'run_by_duration')"
        )
        assert len(cursor.fetchall()) == 4


def _aware(text: str) -> datetime:
    return timezone.make_aware(datetime.fromisoformat(text))


def test_dates_without_an_offset_are_local_times() -> None:
    query = parse_run_query({"started_after": "2026-12-06T09:30", "started_before": "2026-12-07"})
    assert query.started_after == _aware("2026-12-06T09:30")
    assert query.started_before == _aware("2026-12-07T00:00")
