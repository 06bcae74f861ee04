"""The inbox lists the open tasks assigned to me or my groups, newest first, and decides them
through engine.human: a stranger gets a 403, a bad decision a 422 naming the field, a second
decision says it was already decided, and an approval given here lets the waiting run finish on
a real worker."""

import re
import time
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client
from django.utils import timezone

from accounts.models import ApiToken
from designer.drafts import create_workflow, publish
from engine.human import Assignees, close_task, decide_task, escalate, mark_reminded, open_task
from engine.models import Event, HumanTask, Run, TaskDecision, TaskKind, TaskStatus
from engine.runtime.runs import start_run
from tests.designer.test_graph_api__draft_publish_run import api
from tests.engine.graph.graphs import graph
from tests.engine.runtime.test_engine__runs_through_real_workers import wait_for_status

HTMX = {"HX-Request": "true"}
EMPTY = "Nothing waits for you."


def logged_in(user: User, *, enforce_csrf: bool = False) -> Client:
    client = Client(enforce_csrf_checks=enforce_csrf)
    client.force_login(user)
    return client


def csrf_token_of(page: str) -> str:
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


def task(
    title: str,
    *,
    users: tuple[str, ...] = (),
    groups: tuple[str, ...] = (),
    kind: TaskKind = TaskKind.APPROVAL,
    **fields: Any,
) -> HumanTask:
    """An open task on a fresh pending run (no worker needed: nothing advances it)."""
    run = start_run("test-sequence", {"steps": 1})
    return open_task(
        run_id=run.pk,
        step_name="ask",
        kind=kind,
        title=title,
        assignees=Assignees(users=users, groups=groups),
        **fields,
    )


def card_of(page: str, task: HumanTask) -> str:
    start = page.index(f'id="task-{task.pk}"')
    return page[start : page.index("</article>", start)]


def decide(client: Client, task_id: int, decision: str, comment: str = "", **extra: Any) -> Any:
    return client.post(
        f"/inbox/{task_id}/decide", {"decision": decision, "comment": comment}, **extra
    )


@pytest.fixture
def people(make_user: Any) -> dict[str, User]:
    finance = Group.objects.create(name="finance")
    manny = make_user("manny", "approvers")
    manny.groups.add(finance)
    return {
        "manny": manny,
        "rita": make_user("rita", "approvers"),
        "sam": make_user("sam", "approvers"),
        "nobody": make_user("nobody"),
    }


# --- listing ------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_only_my_open_tasks_are_listed_directly_or_through_a_group_due_first(
    people: dict[str, User],
) -> None:
    direct = task(
        "Expense of 400 by eve",
        users=("manny",),
        description="Train tickets\nto Lyon",
        data={"amount": 400, "employee": "eve", "lines": [{"sku": "T-1", "qty": 2}]},
    )
    grouped = task("Invoice from ACME", groups=("finance",))
    task("Sam's own task", users=("sam",))
    closed = task("Timed out long ago", users=("manny",))
    close_task(closed.pk, TaskStatus.TIMED_OUT)

    manny = logged_in(people["manny"])
    page = manny.get("/inbox/").content.decode()
    assert "Expense of 400 by eve" in page and "Invoice from ACME" in page
    assert "Sam's own task" not in page and "Timed out long ago" not in page
    # Neither is due: by default the undated come after the dated, oldest first.
    assert page.index("Expense of 400 by eve") < page.index("Invoice from ACME")
    newest = manny.get("/inbox/?sort=-created").content.decode()
    assert newest.index("Invoice from ACME") < newest.index("Expense of 400 by eve")
    assert EMPTY not in page
    assert f'href="/runs/{direct.run_id}/"' in page and f'href="/runs/{grouped.run_id}/"' in page
    assert "<code>test-sequence</code>" in page
    assert "Train tickets<br>to Lyon" in page
    assert "<dt>amount</dt><dd>400</dd>" in page and "<dt>employee</dt><dd>eve</dd>" in page
    # Nested values are compact JSON, escaped like any text.
    assert "<code>[{&quot;qty&quot;: 2, &quot;sku&quot;: &quot;T-1&quot;}]</code>" in page
    assert page.index("<dt>amount</dt>") < page.index("<dt>employee</dt>") < page.index("<dt>lines")
    assert f'action="/inbox/{direct.pk}/decide"' in page
    assert f'hx-post="/inbox/{direct.pk}/decide"' in page
    assert 'value="approved"' in page and 'value="rejected"' in page
    assert 'value="changes"' not in page  # approvals cannot ask for changes

    assert "Sam&#x27;s own task" in logged_in(people["sam"]).get("/inbox/").content.decode()
    # Every page's navigation counts my open tasks (two: one direct, one through a group).
    designer = logged_in(people["manny"]).get("/designer/").content.decode()
    assert 'aria-label="2 open tasks">2</span>' in designer


@pytest.mark.django_db
def test_due_reminded_escalated_and_review_tallies_are_shown(people: dict[str, User]) -> None:
    now = timezone.now()
    late = task("Late one", users=("manny",), due_at=now - timedelta(hours=3))
    task("Not yet due", users=("manny",), due_at=now + timedelta(days=2, minutes=5))
    mark_reminded(late.pk)
    escalate(late.pk, Assignees(users=("rita",)))
    review = task("Handbook review", users=("manny", "rita"), kind=TaskKind.REVIEW, required=2)
    decide_task(review.pk, people["rita"], "changes", "see page 3")

    page = logged_in(people["manny"]).get("/inbox/").content.decode()
    assert "overdue since" in page and "3\xa0hours" in page
    assert "due in" in page and "2\xa0days" in page
    assert "task-overdue" in page
    late_card = card_of(page, late)
    assert ">reminded</span>" in late_card and ">escalated</span>" in late_card
    review_card = card_of(page, review)
    assert "1 of 2 reviews received" in review_card and "rita" in review_card
    assert 'value="changes"' in review_card and "Request changes" in review_card
    # Rita answered already: her inbox keeps the open review but offers no second decision.
    rita_page = logged_in(people["rita"]).get("/inbox/").content.decode()
    assert "Handbook review" in rita_page and "You answered" in rita_page
    assert f'action="/inbox/{review.pk}/decide"' not in rita_page


@pytest.mark.django_db
def test_the_empty_state_appears_only_when_nothing_is_open(people: dict[str, User]) -> None:
    manny = logged_in(people["manny"])
    assert EMPTY in manny.get("/inbox/").content.decode()
    waiting = task("Expense of 12 by eve", users=("manny",))
    page = manny.get("/inbox/").content.decode()
    assert EMPTY not in page and "Expense of 12 by eve" in page
    decide(manny, waiting.pk, "approved", "fine")
    page = manny.get("/inbox/").content.decode()
    assert EMPTY in page
    assert "nav-count" not in page
    recent = page[page.index("Recently decided by me") :]
    assert "Expense of 12 by eve" in recent and "Approved" in recent and "fine" in recent


@pytest.mark.django_db
def test_people_without_a_role_get_a_403_as_from_the_api(people: dict[str, User]) -> None:
    assert logged_in(people["nobody"]).get("/inbox/").status_code == 403
    assert Client().get("/inbox/").status_code == 302  # to the login page


# --- deciding ---------------------------------------------------------------------------------
@pytest.mark.django_db
def test_approving_settles_the_task_and_a_second_decision_says_already_decided(
    people: dict[str, User],
) -> None:
    waiting = task("Expense of 400 by eve", groups=("finance",))
    manny = logged_in(people["manny"], enforce_csrf=True)
    token = csrf_token_of(manny.get("/inbox/").content.decode())
    assert decide(manny, waiting.pk, "approved", "ok").status_code == 403  # no CSRF token

    answer = manny.post(
        f"/inbox/{waiting.pk}/decide",
        {"decision": "approved", "comment": "receipts attached", "csrfmiddlewaretoken": token},
        follow=True,
    )
    assert answer.redirect_chain == [("/inbox/", 303)]
    page = answer.content.decode()
    assert "You approved “Expense of 400 by eve”." in page
    assert EMPTY in page
    waiting.refresh_from_db()
    assert waiting.status == TaskStatus.APPROVED
    decision = TaskDecision.objects.get(task=waiting)
    assert (decision.user, decision.decision, decision.comment) == (
        people["manny"],
        "approved",
        "receipts attached",
    )
    # A run learns the decision from the task itself: no event is sent that anyone could forge.
    assert not Event.objects.filter(type="Task.decided").exists()

    again = manny.post(
        f"/inbox/{waiting.pk}/decide",
        {"decision": "rejected", "csrfmiddlewaretoken": token},
        follow=True,
    )
    assert again.redirect_chain == [("/inbox/", 303)]
    assert "“Expense of 400 by eve” was already decided" in again.content.decode()
    waiting.refresh_from_db()
    assert waiting.status == TaskStatus.APPROVED
    assert TaskDecision.objects.filter(task=waiting).count() == 1


@pytest.mark.django_db
def test_a_strangers_decision_is_a_403_and_changes_nothing(people: dict[str, User]) -> None:
    waiting = task("Manny's expense", users=("manny",))
    sam = logged_in(people["sam"])
    refused = decide(sam, waiting.pk, "approved")
    assert refused.status_code == 403
    assert "only the task&#x27;s assignees may decide it" in refused.content.decode()
    fragment = decide(sam, waiting.pk, "rejected", headers=HTMX)
    assert fragment.status_code == 403 and "<html" not in fragment.content.decode()
    assert (
        logged_in(people["nobody"])
        .post(f"/inbox/{waiting.pk}/decide", {"decision": "approved"})
        .status_code
        == 403
    )
    waiting.refresh_from_db()
    assert waiting.status == TaskStatus.OPEN and not waiting.decisions.exists()
    assert not Event.objects.filter(type="Task.decided").exists()
    missing = decide(sam, 999_999, "approved")
    assert missing.status_code == 404 and "no task 999999" in missing.content.decode()


@pytest.mark.django_db
def test_a_stranger_learns_nothing_of_a_task_whatever_its_state(people: dict[str, User]) -> None:
    """Refused before anything else: not told it was decided already (nor how), nor its title
    through the bulk form, whose task list is whatever was posted."""
    decided = task("Manny's secret expense", users=("manny",))
    assert decide(logged_in(people["manny"]), decided.pk, "rejected").status_code == 303
    sam = logged_in(people["sam"])
    refused = decide(sam, decided.pk, "approved")
    page = refused.content.decode()
    assert refused.status_code == 403, page
    assert "only the task&#x27;s assignees may decide it" in page and "rejected" not in page
    claimed = sam.post(f"/inbox/{decided.pk}/claim")
    assert claimed.status_code == 403 and "rejected" not in claimed.content.decode()
    bulk = sam.post("/inbox/bulk", {"decision": "approved", "task": [str(decided.pk)]})
    assert f"task {decided.pk}" in bulk.content.decode()
    assert "secret expense" not in bulk.content.decode()


@pytest.mark.django_db
def test_a_bad_decision_is_a_422_naming_the_field_and_keeps_the_comment(
    people: dict[str, User],
) -> None:
    approval = task("Expense of 90 by eve", users=("manny",))
    manny = logged_in(people["manny"])
    for wrong in ("changes", "maybe", ""):  # "changes" is for reviews only
        answer = decide(manny, approval.pk, wrong, "my long explanation")
        assert answer.status_code == 422, wrong
        page = answer.content.decode()
        assert "Nothing changed: decision: decision must be one of approved, rejected" in page
        assert ">my long explanation</textarea>" in page
        assert "<html" in page  # without JavaScript: the whole page
    too_long = decide(manny, approval.pk, "approved", "x" * 5001)
    assert too_long.status_code == 422
    assert "Nothing changed: comment:" in too_long.content.decode()
    assert 'aria-invalid="true"' in too_long.content.decode()
    fragment = decide(manny, approval.pk, "maybe", headers=HTMX)
    assert fragment.status_code == 422 and "<html" not in fragment.content.decode()
    approval.refresh_from_db()
    assert approval.status == TaskStatus.OPEN and not approval.decisions.exists()


@pytest.mark.django_db
def test_with_htmx_the_answer_is_the_task_list_with_its_notice(people: dict[str, User]) -> None:
    first = task("First expense", users=("manny",))
    second = task("Second expense", users=("manny",))
    review = task("Handbook", users=("manny", "rita"), kind=TaskKind.REVIEW, required=2)
    manny = logged_in(people["manny"])

    answer = decide(manny, first.pk, "rejected", "no receipt", headers=HTMX)
    assert answer.status_code == 200
    assert answer["Vary"] and "HX-Request" in answer["Vary"]
    fragment = answer.content.decode()
    assert fragment.lstrip().startswith('<div id="inbox-tasks"') and "<html" not in fragment
    assert "You rejected “First expense”." in fragment
    assert "Second expense" in fragment and f'id="task-{first.pk}"' not in fragment
    assert "Recently decided by me" in fragment

    still_open = decide(manny, review.pk, "changes", headers=HTMX).content.decode()
    assert "You asked for changes on “Handbook”. It stays open" in still_open
    assert "You answered" in still_open

    late = decide(manny, first.pk, "approved", headers=HTMX)
    assert late.status_code == 409
    assert "“First expense” was already decided" in late.content.decode()
    # htmx answers carry their notice inline: nothing is left over for the next page.
    page = manny.get("/inbox/").content.decode()
    assert "You rejected" not in page and "already decided" not in page
    assert "Second expense" in page
    assert HumanTask.objects.get(pk=second.pk).status == TaskStatus.OPEN


@pytest.mark.django_db
def test_fifty_tasks_take_a_bounded_number_of_queries(
    people: dict[str, User], django_assert_max_num_queries: Any
) -> None:
    tasks = [
        task(
            f"Expense {number}",
            # Half reach manny directly, half through his group.
            users=("manny", "rita") if number % 2 else ("rita",),
            groups=() if number % 2 else ("finance",),
            kind=TaskKind.REVIEW if number % 5 == 0 else TaskKind.APPROVAL,
            required=2,
            data={"amount": number, "tags": ["a", "b"]},
        )
        for number in range(1, 51)
    ]
    for earlier in tasks[:10]:
        decide_task(earlier.pk, people["rita"], "approved")  # one of two: still open
    for decided in tasks[40:]:
        decide_task(decided.pk, people["manny"], "approved")  # recently decided by manny
    manny = logged_in(people["manny"])
    # Session, user, roles, delegations, the tasks with their decisions, assignees and groups,
    # my groups, my recent decisions, my saved views, and the nav's count (with its own
    # delegation look-up): the same thirteen for 5 tasks or 100.
    with django_assert_max_num_queries(13):
        page = manny.get("/inbox/").content.decode()
    assert page.count('class="card task') == 50  # each still needs a second answer
    assert page.count("1 of 2 approvals received") == 16
    assert page.count("1 of 2 reviews received") == 4
    assert page.count("You answered") == 10
    assert "Recently decided by me" in page
    with django_assert_max_num_queries(13):
        assert manny.get("/inbox/", headers=HTMX).status_code == 200


# --- end to end: a published graph on a real worker ----------------------------------------
EXPENSE = graph(
    [
        (
            "start",
            "trigger.manual",
            {
                "input_schema": {
                    "type": "object",
                    "required": ["amount", "employee"],
                    "properties": {"amount": {"type": "number"}, "employee": {"type": "string"}},
                }
            },
        ),
        (
            "ask",
            "human.approval",
            {
                "title": "Expense of {{ input.amount }} by {{ input.employee }}",
                "description": "Please check the receipts.",
                "data": {"amount": "{{ input.amount }}", "employee": "{{ input.employee }}"},
                "assignees": {"groups": ["approvers"]},
            },
        ),
        (
            "yes",
            "flow.end",
            {
                "output": {
                    "approved": True,
                    "by": "{{ nodes.ask.output.decisions[0].user }}",
                    "comment": "{{ nodes.ask.output.decisions[0].comment }}",
                }
            },
        ),
        ("no", "flow.end", {"output": {"approved": False}}),
    ],
    ["start>ask", "ask>approved>yes", "ask>rejected>no"],
)


def waiting_task(run: Run, timeout: float = 20) -> HumanTask:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = HumanTask.objects.filter(run=run, status=TaskStatus.OPEN).first()
        if found is not None:
            return found
        time.sleep(0.05)
    run.refresh_from_db()
    raise AssertionError(f"run {run.pk} ({run.status}) opened no task: {run.error}")


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("celery_worker", "timer_loop")
def test_an_approval_given_in_the_inbox_lets_the_run_complete(make_user: Any) -> None:
    approver = make_user("manny", "approvers")  # first: the graph names the approvers group
    workflow, problems = create_workflow(
        slug="inbox-expense", title="Expense (inbox)", user=None, graph=EXPENSE
    )
    assert problems == []
    publish(workflow, None)
    _, raw = ApiToken.issue(make_user("otto", "operators"), "ci")
    started = api(
        Client(),
        "post",
        "/api/workflows/inbox-expense/runs",
        {"Authorization": f"Bearer {raw}"},
        {"input": {"amount": 400, "employee": "eve"}},
    )
    assert started.status_code == 201, started.json()
    run = Run.objects.get(pk=started.json()["id"])
    waiting = waiting_task(run)

    manny = logged_in(approver, enforce_csrf=True)
    page = manny.get("/inbox/").content.decode()
    assert "Expense of 400 by eve" in page and "<dt>amount</dt><dd>400</dd>" in page
    answer = manny.post(
        f"/inbox/{waiting.pk}/decide",
        {"decision": "approved", "comment": "ok", "csrfmiddlewaretoken": csrf_token_of(page)},
        headers=HTMX,
    )
    assert answer.status_code == 200
    assert "You approved “Expense of 400 by eve”." in answer.content.decode()
    run = wait_for_status(run, "completed")
    assert run.output == {"approved": True, "by": "manny", "comment": "ok"}
    recent = manny.get("/inbox/").content.decode()
    assert EMPTY in recent and "Recently decided by me" in recent
