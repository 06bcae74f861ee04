"""Who may decide a task: never the person who asked (four-eyes), nobody twice in one run when
a stage says so, only the member who claimed a group's task, a delegate on behalf of someone
who is away (never around four-eyes), n of m by distinct people; operators reassign. Every
step is in the task's history; every refusal says why and changes nothing else."""

import threading
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.db import connection
from django.test import Client
from django.utils import timezone

from engine.human import (
    Assignees,
    TaskError,
    claim_task,
    decide_task,
    open_task,
    set_delegation,
)
from engine.models import HumanTask, Run, TaskDecision, TaskKind, TaskStatus
from tests.designer.test_graph_api__draft_publish_run import api

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(make_user: Any) -> dict[str, User]:
    finance = Group.objects.create(name="finance")
    found = {
        name: make_user(name, "approvers")
        for name in ("eve", "manny", "vic", "dora", "zoe", "rita")
    }
    for name in ("eve", "manny", "vic", "rita"):
        found[name].groups.add(finance)
    found["otto"] = make_user("otto", "operators")
    return found


def token(user: User) -> dict[str, str]:
    from accounts.models import ApiToken

    _, raw = ApiToken.issue(user, "test")
    return {"Authorization": f"Bearer {raw}"}


def ask(
    step: str = "ask",
    *,
    users: tuple[str, ...] = (),
    groups: tuple[str, ...] = ("finance",),
    started_by: User | None = None,
    run_id: int | None = None,
    **fields: Any,
) -> HumanTask:
    if run_id is None:
        # A run that waits and is never advanced: no worker can end it (and cancel its tasks).
        run_id = Run.objects.create(
            workflow="test-wait",
            version="test",
            status="waiting",
            created_by=started_by,
            created_at=timezone.now(),
        ).pk
    return open_task(
        run_id=run_id,
        step_name=step,
        kind=fields.pop("kind", TaskKind.APPROVAL),
        title=f"Expense ({step})",
        assignees=Assignees(users=users, groups=groups),
        **fields,
    )


def refused(task: HumanTask, user: User, **options: Any) -> TaskError:
    with pytest.raises(TaskError) as caught:
        decide_task(task.pk, user, "approved", **options)
    return caught.value


def test_whoever_started_the_run_cannot_decide_its_task(
    people: dict[str, User], client: Client
) -> None:
    task = ask(started_by=people["eve"])
    problem = refused(task, people["eve"])
    assert problem.status == 403 and "four-eyes" in problem.message and "eve" in problem.message
    answer = api(
        client,
        "post",
        f"/api/tasks/{task.pk}/decide",
        token(people["eve"]),
        {"decision": "approved"},
    )
    assert answer.status_code == 403 and "four-eyes" in answer.json()["detail"]
    task.refresh_from_db()
    assert task.status == TaskStatus.OPEN and not task.decisions.exists()
    assert [event.kind for event in task.history.all()] == ["created", "refused", "refused"]
    decide_task(task.pk, people["manny"], "approved")
    task.refresh_from_db()
    assert task.status == TaskStatus.APPROVED


def test_the_named_requester_cannot_decide_either(people: dict[str, User]) -> None:
    task = ask(requester="rita")
    assert "four-eyes" in refused(task, people["rita"]).message
    decide_task(task.pk, people["vic"], "approved")


def test_nobody_decides_two_stages_that_must_be_distinct(people: dict[str, User]) -> None:
    first = ask("manager")
    second = ask("vp", run_id=first.run_id, distinct_from=["manager"])
    decide_task(first.pk, people["manny"], "approved")
    problem = refused(second, people["manny"])
    assert problem.status == 403 and "'manager' stage" in problem.message
    decide_task(second.pk, people["vic"], "approved")
    second.refresh_from_db()
    assert second.status == TaskStatus.APPROVED
    # In another run the same person may decide the same stage.
    elsewhere = ask("vp", distinct_from=["manager"])
    decide_task(elsewhere.pk, people["manny"], "approved")


def test_a_delegate_decides_on_behalf_of_someone_away(
    people: dict[str, User], client: Client
) -> None:
    today = timezone.localdate()
    set_delegation(people["manny"], "dora", today, today + timedelta(days=3))
    task = ask(users=("manny",), groups=())
    listed = api(client, "get", "/api/tasks", token(people["dora"])).json()
    assert [item["id"] for item in listed] == [task.pk]

    decide_task(task.pk, people["dora"], "approved", comment="for Manny")
    decision = TaskDecision.objects.get(task=task)
    assert (decision.user, decision.decided_by) == (people["manny"], people["dora"])
    again = refused(
        ask(users=("manny",), groups=(), run_id=task.run_id, step="other"), people["zoe"]
    )
    assert again.status == 403
    detail = api(client, "get", f"/api/tasks/{task.pk}", token(people["dora"])).json()
    assert detail["decisions"][0]["user"] == "manny"
    assert detail["decisions"][0]["decided_by"] == "dora"
    decided = next(event for event in detail["history"] if event["kind"] == "decision")
    assert (decided["actor"], decided["on_behalf_of"]) == ("dora", "manny")


def test_delegation_is_not_transitive_and_keeps_to_its_dates(people: dict[str, User]) -> None:
    today = timezone.localdate()
    set_delegation(people["manny"], "dora", today, today)
    set_delegation(people["dora"], "zoe", today, today)
    task = ask(users=("manny",), groups=())
    assert refused(task, people["zoe"]).status == 403  # dora cannot pass manny's task on
    later = ask(users=("vic",), groups=())
    set_delegation(people["vic"], "zoe", today + timedelta(days=1), today + timedelta(days=2))
    assert refused(later, people["zoe"]).status == 403  # not yet


def test_delegation_cannot_break_four_eyes(people: dict[str, User]) -> None:
    today = timezone.localdate()
    task = ask(users=("manny",), groups=(), started_by=people["eve"])
    set_delegation(people["manny"], "eve", today, today)
    problem = refused(task, people["eve"])
    assert "four-eyes" in problem.message  # eve may not decide her own, even for manny
    own = ask(users=("eve",), groups=(), requester="eve")
    set_delegation(people["eve"], "dora", today, today)
    assert "four-eyes" in refused(own, people["dora"]).message  # nor dora in eve's name


def test_one_answer_per_person_even_through_a_delegate(people: dict[str, User]) -> None:
    today = timezone.localdate()
    task = ask(users=("manny", "dora", "vic"), groups=(), required=3)
    set_delegation(people["manny"], "dora", today, today)
    decide_task(task.pk, people["dora"], "approved", on_behalf_of="manny")
    assert refused(task, people["manny"]).status == 409  # manny's answer was given
    assert refused(task, people["dora"]).status == 409  # dora gave one already
    wrong = refused(task, people["vic"], on_behalf_of="rita")
    assert wrong.status == 403 and wrong.field == "on_behalf_of"


@pytest.mark.django_db(transaction=True)  # the threads see only what is committed
def test_two_claimers_one_wins_and_the_other_learns_who(people: dict[str, User]) -> None:
    task = ask()
    results: dict[str, str] = {}
    start_line = threading.Barrier(2)
    threads = [
        threading.Thread(target=_claim, args=(start_line, task.pk, people[name], results))
        for name in ("manny", "vic")
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert sorted(results.values()).count("won") == 1
    winner = next(name for name, result in results.items() if result == "won")
    loser = next(name for name in results if name != winner)
    assert results[loser] == f"{winner} has claimed this task already"
    task.refresh_from_db()
    assert task.claimed_by.username == winner


def _claim(start_line: threading.Barrier, task_id: int, user: User, results: dict) -> None:
    start_line.wait()
    try:
        claim_task(task_id, user)
        results[user.username] = "won"
    except TaskError as lost:
        results[user.username] = lost.message
    finally:
        connection.close()


def test_a_claimed_task_leaves_the_group_queue_until_let_go(
    people: dict[str, User], client: Client
) -> None:
    task = ask()
    assert (
        api(client, "post", f"/api/tasks/{task.pk}/claim", token(people["vic"])).status_code == 200
    )
    assert api(client, "get", "/api/tasks", token(people["manny"])).json() == []
    taken = api(
        client,
        "post",
        f"/api/tasks/{task.pk}/decide",
        token(people["manny"]),
        {"decision": "approved"},
    )
    assert taken.status_code == 409 and "vic has claimed" in taken.json()["detail"]
    unclaim = api(client, "post", f"/api/tasks/{task.pk}/unclaim", token(people["manny"]))
    assert unclaim.status_code == 403  # only vic (or an operator) lets it go
    assert (
        api(client, "post", f"/api/tasks/{task.pk}/unclaim", token(people["vic"])).status_code
        == 200
    )
    listed = api(client, "get", "/api/tasks", token(people["manny"])).json()
    assert [item["id"] for item in listed] == [task.pk]
    kinds = [
        event["kind"]
        for event in api(client, "get", f"/api/tasks/{task.pk}", token(people["vic"])).json()[
            "history"
        ]
    ]
    assert kinds == ["created", "claimed", "unclaimed"]


def test_operators_reassign_and_others_may_not(people: dict[str, User], client: Client) -> None:
    task = ask()
    claim_task(task.pk, people["manny"])
    refused_answer = api(
        client, "post", f"/api/tasks/{task.pk}/reassign", token(people["vic"]), {"users": ["zoe"]}
    )
    assert refused_answer.status_code == 403
    bad = api(
        client,
        "post",
        f"/api/tasks/{task.pk}/reassign",
        token(people["otto"]),
        {"users": ["nobody"]},
    )
    assert bad.status_code == 422 and bad.json()["field"] == "users"
    moved = api(
        client,
        "post",
        f"/api/tasks/{task.pk}/reassign",
        token(people["otto"]),
        {"users": ["zoe"], "note": "manny is ill"},
    )
    assert moved.status_code == 200, moved.json()
    body = moved.json()
    assert body["assignees"] == ["zoe"] and body["groups"] == [] and body["claimed_by"] is None
    event = body["history"][-1]
    assert (event["kind"], event["actor"], event["note"]) == ("reassigned", "otto", "manny is ill")
    assert refused(task, people["manny"]).status == 403
    decide_task(task.pk, people["zoe"], "approved")


def test_n_of_m_counts_people_and_rejection_can_wait_for_the_others(
    people: dict[str, User],
) -> None:
    strict = ask(users=("manny", "vic", "zoe"), groups=(), required=2)
    decide_task(strict.pk, people["manny"], "rejected")
    strict.refresh_from_db()
    assert strict.status == TaskStatus.REJECTED  # by default one rejection ends it

    lenient = ask(users=("manny", "vic", "zoe"), groups=(), required=2, any_rejection_rejects=False)
    decide_task(lenient.pk, people["manny"], "rejected")
    lenient.refresh_from_db()
    assert lenient.status == TaskStatus.OPEN  # two approvals are still possible
    decide_task(lenient.pk, people["vic"], "approved")
    decide_task(lenient.pk, people["zoe"], "approved")
    lenient.refresh_from_db()
    assert lenient.status == TaskStatus.APPROVED

    hopeless = ask(
        users=("manny", "vic", "zoe"), groups=(), required=2, any_rejection_rejects=False
    )
    decide_task(hopeless.pk, people["manny"], "rejected")
    decide_task(hopeless.pk, people["vic"], "rejected")
    hopeless.refresh_from_db()
    assert hopeless.status == TaskStatus.REJECTED  # only zoe is left: two cannot approve


def test_delegation_rules_through_the_api_name_bad_fields(
    people: dict[str, User], client: Client
) -> None:
    manny = token(people["manny"])
    today = timezone.localdate()
    for body, field in [
        ({"delegate": "manny", "starts_on": str(today), "ends_on": str(today)}, "delegate"),
        ({"delegate": "ghost", "starts_on": str(today), "ends_on": str(today)}, "delegate"),
        ({"delegate": "dora", "starts_on": str(today), "ends_on": "2000-01-01"}, "ends_on"),
    ]:
        answer = api(client, "post", "/api/me/delegations", manny, body)
        assert answer.status_code == 422, answer.json()
        assert answer.json()["field"] == field
    assert api(client, "get", "/api/me/delegations", manny).json() == []
    made = api(
        client,
        "post",
        "/api/me/delegations",
        manny,
        {
            "delegate": "dora",
            "starts_on": str(today),
            "ends_on": str(today),
            "workflows": ["expense-approval"],
        },
    )
    assert made.status_code == 201, made.json()
    rule = made.json()
    assert rule["workflows"] == ["expense-approval"]
    # Another person cannot end it.
    other = api(client, "delete", f"/api/me/delegations/{rule['id']}", token(people["vic"]))
    assert other.status_code == 404
    assert api(client, "delete", f"/api/me/delegations/{rule['id']}", manny).status_code == 204


def test_the_inbox_shows_claims_delegation_and_four_eyes(
    people: dict[str, User], client: Client
) -> None:
    today = timezone.localdate()
    mine = ask("own", started_by=people["manny"])
    group_task = ask("grouped")
    set_delegation(people["vic"], "manny", today, today)
    for_vic = ask("vics", users=("vic",), groups=())
    client.force_login(people["manny"])
    page = client.get("/inbox/").content.decode()
    own_card = page[page.index(f'id="task-{mine.pk}"') :]
    assert "four-eyes: manny asked for this" in own_card[: own_card.index("</article>")]
    grouped = page[page.index(f'id="task-{group_task.pk}"') :]
    assert ">Claim</button>" in grouped[: grouped.index("</article>")]
    vics = page[page.index(f'id="task-{for_vic.pk}"') :]
    assert "on behalf of vic" in vics[: vics.index("</article>")]

    claimed = client.post(f"/inbox/{group_task.pk}/claim", follow=True)
    assert "is yours now" in claimed.content.decode()
    answer = client.post(
        f"/inbox/{for_vic.pk}/decide",
        {"decision": "approved", "comment": "", "on_behalf_of": "vic"},
        follow=True,
    )
    assert "for vic" in answer.content.decode()
    assert TaskDecision.objects.get(task=for_vic).decided_by == people["manny"]
    blocked = client.post(f"/inbox/{mine.pk}/decide", {"decision": "approved"})
    assert blocked.status_code == 403 and "four-eyes" in blocked.content.decode()


def test_the_delegation_page_adds_and_ends_rules(people: dict[str, User], client: Client) -> None:
    client.force_login(people["manny"])
    today = timezone.localdate()
    bad = client.post(
        "/profile/delegation", {"delegate": "manny", "starts_on": str(today), "ends_on": str(today)}
    )
    assert (
        bad.status_code == 422
        and "delegate: you cannot delegate to yourself" in bad.content.decode()
    )
    saved = client.post(
        "/profile/delegation",
        {"delegate": "dora", "starts_on": str(today), "ends_on": str(today)},
        follow=True,
    )
    page = saved.content.decode()
    assert "Saved" in page and "<td>dora</td>" in page
    rule = people["manny"].delegations.get()
    ended = client.post("/profile/delegation", {"end": rule.pk}, follow=True)
    assert "The rule ended." in ended.content.decode()
    assert not people["manny"].delegations.exists()
