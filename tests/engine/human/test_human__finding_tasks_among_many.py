"""Finding one's tasks: views (mine, the group's queue, delegated to me, decided), filters
(workflow, due, assignee, search, data fields), sort and keyset pages that neither skip nor
repeat a task; a bad parameter is named."""

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.utils import timezone

from engine.human import Assignees, TaskError, claim_task, decide_task, open_task, set_delegation
from engine.human.queries import TaskQuery, find_tasks, parse_query
from engine.models import HumanTask, Run, TaskKind

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(make_user: Any) -> dict[str, User]:
    finance = Group.objects.create(name="finance")
    found = {name: make_user(name, "approvers") for name in ("ana", "ben", "cid")}
    found["ana"].groups.add(finance)
    found["ben"].groups.add(finance)
    return found


def ask(
    title: str,
    *,
    workflow: str = "expenses",
    users: tuple[str, ...] = (),
    groups: tuple[str, ...] = (),
    due_in: timedelta | None = None,
    data: dict[str, Any] | None = None,
) -> HumanTask:
    run = Run.objects.create(
        workflow=workflow, version="t", status="waiting", created_at=timezone.now()
    )
    return open_task(
        run_id=run.pk,
        step_name="ask",
        kind=TaskKind.APPROVAL,
        title=title,
        data=data or {},
        assignees=Assignees(users=users, groups=groups),
        due_at=timezone.now() + due_in if due_in is not None else None,
    )


def titles(user: User, **params: Any) -> list[str]:
    return [task.title for task in find_tasks(user, parse_query(params)).tasks]


def test_views_split_mine_the_queue_delegated_and_decided(people: dict[str, User]) -> None:
    ask("direct", users=("ana",))
    grouped = ask("group", groups=("finance",))
    ask("cid's", users=("cid",))
    today = timezone.localdate()
    set_delegation(people["cid"], "ana", today, today)
    decided = ask("done", users=("ana",))
    decide_task(decided.pk, people["ana"], "approved")

    assert sorted(titles(people["ana"])) == ["cid's", "direct", "group"]
    assert titles(people["ana"], view="mine") == ["direct"]
    assert titles(people["ana"], view="queue") == ["group"]
    assert titles(people["ana"], view="delegated") == ["cid's"]
    assert titles(people["ana"], view="decided") == ["done"]

    claim_task(grouped.pk, people["ben"])
    assert titles(people["ana"], view="queue") == []  # claimed by ben: out of ana's queue
    assert titles(people["ben"], view="mine") == ["group"]


def test_filters_by_workflow_due_assignee_search_and_data(people: dict[str, User]) -> None:
    ask("Taxi", users=("ana",), due_in=timedelta(hours=-1), data={"amount": 40, "city": "Lyon"})
    ask("Hotel", users=("ana",), due_in=timedelta(hours=3), data={"amount": 1200})
    ask("Laptop", users=("ana", "ben"), workflow="purchases", data={"amount": 900})
    ask("Flight", users=("ana",), due_in=timedelta(days=3), data={"amount": 1500})

    ana = people["ana"]
    assert titles(ana, workflow="purchases") == ["Laptop"]
    assert titles(ana, due="overdue") == ["Taxi"]
    assert titles(ana, due="today") == ["Hotel"]
    assert sorted(titles(ana, due="week")) == ["Flight", "Hotel"]
    assert titles(ana, due="none") == ["Laptop"]
    assert titles(ana, assignee="ben") == ["Laptop"]
    assert titles(ana, q="lyon") == ["Taxi"]  # found in the data
    assert titles(ana, data="amount>=1000") == ["Hotel", "Flight"]
    assert titles(ana, data="amount<1000,city=Lyon") == ["Taxi"]


def test_sorting_and_pages_neither_skip_nor_repeat(people: dict[str, User]) -> None:
    for number in range(23):
        due = timedelta(hours=number % 7) if number % 3 else None
        ask(f"task {number:02d}", users=("ana",), due_in=due)
    seen: list[str] = []
    cursor = ""
    pages = 0
    while True:
        page = find_tasks(people["ana"], parse_query({"limit": "5", "cursor": cursor}))
        seen += [task.title for task in page.tasks]
        pages += 1
        cursor = page.next_cursor
        if not cursor:
            break
    assert pages == 5 and len(seen) == 23 and len(set(seen)) == 23
    everything = find_tasks(people["ana"], TaskQuery(limit=50)).tasks
    assert [task.title for task in everything] == seen  # the same order as one big page
    dues = [task.due_at for task in everything]
    dated = [due for due in dues if due is not None]
    assert dated == sorted(dated) and dues[-len(dues) + len(dated) :] == [None] * (
        len(dues) - len(dated)
    )
    newest = titles(people["ana"], sort="-created", limit="3")
    assert newest == ["task 22", "task 21", "task 20"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"view": "everything"}, "view"),
        ({"sort": "title"}, "sort"),
        ({"due": "yesterday"}, "due"),
        ({"limit": "1000"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"data": "amount~5"}, "data"),
        ({"data": "city>Lyon"}, "data"),
        ({"cursor": "not-a-cursor"}, "cursor"),
    ],
)
def test_a_bad_parameter_is_named(
    people: dict[str, User], params: dict[str, str], field: str
) -> None:
    ask("one", users=("ana",))
    with pytest.raises(TaskError) as refused:
        find_tasks(people["ana"], parse_query(params))
    assert refused.value.status == 422 and refused.value.field == field
