"""Task e-mails go to each assignee (group members too) after commit, on assignment, reminder,
escalation and reassignment, naming the task, its workflow, its data and due date, with a link to
it in the inbox. Their one-click decision links open a confirm page that changes nothing; only
its POST decides, through decide_task, once: a used, expired, tampered or someone else's link is
refused and changes nothing, and the four-eyes rule refuses a link like any other decision."""

import re
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.core import signing
from django.core.mail import EmailMessage
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from engine.human import (
    DECISIONS,
    Assignees,
    DjangoTaskService,
    decide_task,
    escalate,
    open_task,
    reassign,
)
from engine.human.notify import INBOX_PATH, LINK_LABELS, LINK_PATH, Notice, message_for
from engine.human.tokens import LinkRefused, read_link, sign_link
from engine.models import (
    HumanTask,
    Run,
    TaskDecision,
    TaskEvent,
    TaskEventKind,
    TaskKind,
    TaskStatus,
    UsedDecisionLink,
)
from engine.runtime.runs import start_run

BASE = "https://stepwise.example"
LINK = re.compile(rf"  (Approve|Reject|Request changes): {re.escape(BASE)}(/inbox/decide/\S+)")


@pytest.fixture(autouse=True)
def base_url() -> Iterator[None]:
    with override_settings(STEPWISE_BASE_URL=f"{BASE}/"):
        yield


@pytest.fixture
def people(make_user: Any) -> dict[str, User]:
    finance = Group.objects.create(name="finance")
    gina = make_user("gina", "approvers", email="gina@example.com")
    gina.groups.add(finance)
    quiet = make_user("quiet", "approvers")  # no e-mail address: no mail
    quiet.groups.add(finance)
    return {
        "manny": make_user("manny", "approvers", email="manny@example.com", first_name="Manny"),
        "gina": gina,
        "quiet": quiet,
        "rita": make_user("rita", "approvers", email="rita@example.com"),
        "ops": make_user("ops", "operators", email="ops@example.com"),
    }


def committed(capture: Any, action: Callable[[], Any]) -> Any:
    """Run the action and the work it left for after commit (the test's transaction never
    commits)."""
    with capture(execute=True):
        return action()


def task(capture: Any, title: str, **fields: Any) -> HumanTask:
    run = start_run("test-sequence", {"steps": 1})
    fields.setdefault("assignees", Assignees(users=("manny",)))
    fields.setdefault("kind", TaskKind.APPROVAL)
    return committed(
        capture, lambda: open_task(run_id=run.pk, step_name="ask", title=title, **fields)
    )


def mail_to(outbox: list[EmailMessage], address: str) -> EmailMessage:
    found = [message for message in outbox if message.to == [address]]
    assert len(found) == 1, [message.to for message in outbox]
    return found[0]


def links_in(message: EmailMessage) -> dict[str, str]:
    """The mail's one-click links by label, as paths of this site."""
    return dict(LINK.findall(str(message.body)))


def logged_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --- the mails ---------------------------------------------------------------------------------
@pytest.mark.django_db
def test_a_new_task_mails_each_assignee_with_the_inbox_link_the_data_and_their_own_links(
    people: dict[str, User], mailoutbox: list[EmailMessage], django_capture_on_commit_callbacks: Any
) -> None:
    due = timezone.now() + timedelta(days=2)
    run = start_run("test-sequence", {"steps": 1})
    with django_capture_on_commit_callbacks() as pending:
        opened = open_task(
            run_id=run.pk,
            step_name="ask",
            kind=TaskKind.APPROVAL,
            title="Expense of 400\nby eve",
            description="Train tickets\nto Lyon",
            data={"employee": "eve", "amount": 400, "lines": [{"sku": "T-1"}]},
            assignees=Assignees(users=("manny",), groups=("finance",)),
            due_at=due,
        )
        assert mailoutbox == []  # nothing leaves before the task is committed
    for callback in pending:
        callback()

    assert sorted(message.to[0] for message in mailoutbox) == [
        "gina@example.com",
        "manny@example.com",
    ]
    manny = mail_to(mailoutbox, "manny@example.com")
    assert manny.subject == "New approval: Expense of 400 by eve"
    body = str(manny.body)
    assert body.startswith("Hello Manny,\n\nAn approval waits for your decision in Stepwise.\n")
    assert "Task: Expense of 400 by eve\n" in body
    assert f"Workflow: test-sequence (run #{run.pk}, step ask)" in body
    assert f"Due: {timezone.localtime(due):%Y-%m-%d %H:%M} UTC" in body
    assert "About it:\n  Train tickets\n  to Lyon\n" in body
    assert 'Details:\n  amount: 400\n  employee: eve\n  lines: [{"sku": "T-1"}]\n' in body
    assert f"Open it in your inbox:\n{BASE}/inbox/#task-{opened.pk}\n" in body
    mine = links_in(manny)
    assert list(mine) == ["Approve", "Reject"]
    claims = {label: read_link(path.removeprefix(LINK_PATH)) for label, path in mine.items()}
    assert {claim.decision for claim in claims.values()} == {"approved", "rejected"}
    assert {(claim.task_id, claim.user_id) for claim in claims.values()} == {
        (opened.pk, people["manny"].pk)
    }
    gina = links_in(mail_to(mailoutbox, "gina@example.com"))
    assert read_link(gina["Approve"].removeprefix(LINK_PATH)).user_id == people["gina"].pk


@pytest.mark.django_db
def test_a_review_offers_request_changes_and_links_can_be_turned_off(
    people: dict[str, User], mailoutbox: list[EmailMessage], django_capture_on_commit_callbacks: Any
) -> None:
    task(django_capture_on_commit_callbacks, "Handbook", kind=TaskKind.REVIEW)
    assert list(links_in(mailoutbox[0])) == ["Approve", "Request changes", "Reject"]
    assert mailoutbox[0].subject == "New review: Handbook"

    with override_settings(STEPWISE_DECISION_LINK_MAX_AGE_SECONDS=0):
        task(django_capture_on_commit_callbacks, "Quiet one")
    assert links_in(mailoutbox[1]) == {}
    assert "#task-" in str(mailoutbox[1].body)


@pytest.mark.django_db
def test_escalation_and_reassignment_mail_the_people_they_add(
    people: dict[str, User], mailoutbox: list[EmailMessage], django_capture_on_commit_callbacks: Any
) -> None:
    capture = django_capture_on_commit_callbacks
    late = task(capture, "Late one")
    mailoutbox.clear()

    committed(capture, lambda: escalate(late.pk, Assignees(users=("rita", "manny"))))
    assert sorted(message.to[0] for message in mailoutbox) == [
        "manny@example.com",
        "rita@example.com",
    ]
    rita = mail_to(mailoutbox, "rita@example.com")
    assert rita.subject == "Escalated to you: Late one"
    assert "was escalated to you" in str(rita.body) and list(links_in(rita)) == [
        "Approve",
        "Reject",
    ]
    manny = mail_to(mailoutbox, "manny@example.com")
    assert manny.subject == "Escalated: Late one" and links_in(manny) == {}
    mailoutbox.clear()

    reassigned = {"users": ["rita"], "groups": ["finance"]}
    committed(capture, lambda: reassign(late.pk, reassigned, people["ops"], "manny is away"))
    # Rita had it already; of the finance group only Gina has an address.
    assert [message.to for message in mailoutbox] == [["gina@example.com"]]
    assert mailoutbox[0].subject == "New approval: Late one"
    assert "ops gave you an approval to decide" in str(mailoutbox[0].body)
    assert list(links_in(mailoutbox[0])) == ["Approve", "Reject"]


@pytest.mark.django_db
def test_a_reminder_keeps_its_subject_and_carries_links(
    people: dict[str, User], mailoutbox: list[EmailMessage], django_capture_on_commit_callbacks: Any
) -> None:
    capture = django_capture_on_commit_callbacks
    slow = task(capture, "Needs an answer", assignees=Assignees(users=("manny", "rita")))
    mailoutbox.clear()

    result = committed(capture, lambda: DjangoTaskService().remind(slow.pk))
    assert result == {"task": slow.pk, "reminded": ["manny@example.com", "rita@example.com"]}
    assert [message.subject for message in mailoutbox] == ["Reminder: Needs an answer"] * 2
    assert sorted(message.to[0] for message in mailoutbox) == [
        "manny@example.com",
        "rita@example.com",
    ]
    assert "still waits for your decision" in str(mailoutbox[0].body)
    assert list(links_in(mailoutbox[0])) == ["Approve", "Reject"]


@pytest.mark.django_db
def test_a_task_settled_before_its_mail_goes_out_sends_none(
    people: dict[str, User], mailoutbox: list[EmailMessage], django_capture_on_commit_callbacks: Any
) -> None:
    run = start_run("test-sequence", {"steps": 1})
    with django_capture_on_commit_callbacks() as pending:
        opened = open_task(
            run_id=run.pk,
            step_name="ask",
            kind=TaskKind.APPROVAL,
            title="Quick",
            assignees=Assignees(users=("manny",)),
        )
    decide_task(opened.pk, people["manny"], "approved")
    for callback in pending:
        callback()
    assert mailoutbox == []


# --- the links ---------------------------------------------------------------------------------
@pytest.mark.django_db
def test_a_link_opens_a_confirm_page_and_only_its_post_decides_once(
    people: dict[str, User], mailoutbox: list[EmailMessage], django_capture_on_commit_callbacks: Any
) -> None:
    waiting = task(django_capture_on_commit_callbacks, "Expense of 400", data={"amount": 400})
    path = links_in(mail_to(mailoutbox, "manny@example.com"))["Approve"]
    manny = logged_in(people["manny"])

    page = manny.get(path)
    assert page.status_code == 200
    html = page.content.decode()
    assert (
        '<strong class="decision decision-approved" data-testid="proposed">Approve</strong>' in html
    )
    assert f'action="{path}"' in html and 'name="comment"' in html
    assert "<dt>amount</dt><dd>400</dd>" in html
    assert page.headers["Cache-Control"].startswith("max-age=0")
    waiting.refresh_from_db()
    assert waiting.status == TaskStatus.OPEN and not TaskDecision.objects.exists()

    too_long = manny.post(path, {"comment": "x" * 10_001})
    assert too_long.status_code == 422
    assert 'aria-invalid="true">xxx' in too_long.content.decode()  # the writing comes back
    assert not TaskDecision.objects.exists() and not UsedDecisionLink.objects.exists()

    answer = manny.post(path, {"comment": "receipts attached"}, follow=True)
    assert answer.redirect_chain == [("/inbox/", 303)]
    assert "You approved “Expense of 400”." in answer.content.decode()
    waiting.refresh_from_db()
    assert waiting.status == TaskStatus.APPROVED
    decision = TaskDecision.objects.get(task=waiting)
    assert (decision.user, decision.decision, decision.comment) == (
        people["manny"],
        "approved",
        "receipts attached",
    )
    assert UsedDecisionLink.objects.filter(task=waiting, user=people["manny"]).count() == 1

    for again in (manny.get(path), manny.post(path, {"comment": "twice"})):
        assert again.status_code == 410
        assert "This link was used already. Nothing changed." in again.content.decode()
    # The other link of the same mail shares its nonce: it is used too.
    reject = links_in(mail_to(mailoutbox, "manny@example.com"))["Reject"]
    assert manny.post(reject).status_code == 410
    assert TaskDecision.objects.get(task=waiting).decision == "approved"


@pytest.mark.django_db
def test_a_link_needs_a_login_and_is_refused_to_anyone_else(
    people: dict[str, User], mailoutbox: list[EmailMessage], django_capture_on_commit_callbacks: Any
) -> None:
    waiting = task(django_capture_on_commit_callbacks, "Expense of 12")
    path = links_in(mail_to(mailoutbox, "manny@example.com"))["Approve"]

    anonymous = Client().get(path)
    assert anonymous.status_code == 302 and anonymous.headers["Location"].startswith("/login/")

    rita = logged_in(people["rita"])
    for answer in (rita.get(path), rita.post(path)):
        assert answer.status_code == 403
        text = answer.content.decode()
        assert "This link was made for manny, and you are logged in as rita" in text
        assert 'name="comment"' not in text
    waiting.refresh_from_db()
    assert waiting.status == TaskStatus.OPEN and not TaskDecision.objects.exists()
    assert not UsedDecisionLink.objects.exists()


@pytest.mark.django_db
def test_expired_tampered_and_disabled_links_are_refused(
    people: dict[str, User], monkeypatch: pytest.MonkeyPatch, make_user: Any
) -> None:
    run = start_run("test-sequence", {"steps": 1})
    waiting = open_task(
        run_id=run.pk,
        step_name="ask",
        kind=TaskKind.APPROVAL,
        title="Expense of 12",
        assignees=Assignees(users=("manny",)),
    )
    manny = logged_in(people["manny"])
    fresh = sign_link(waiting.pk, people["manny"].pk, "approved", "fresh-nonce")

    eight_days_ago = int(timezone.now().timestamp()) - 8 * 24 * 3600
    with monkeypatch.context() as patched:
        patched.setattr(
            signing.TimestampSigner, "timestamp", lambda self: signing.b62_encode(eight_days_ago)
        )
        old = sign_link(waiting.pk, people["manny"].pk, "approved", "old-nonce")
    for answer in (manny.get(f"{LINK_PATH}{old}"), manny.post(f"{LINK_PATH}{old}")):
        assert answer.status_code == 410
        assert "This link has expired; decide in the inbox." in answer.content.decode()
    # A longer limit makes the same link work again: the age is checked when it is used.
    with override_settings(STEPWISE_DECISION_LINK_MAX_AGE_SECONDS=9 * 24 * 3600):
        assert manny.get(f"{LINK_PATH}{old}").status_code == 200

    payload, stamp, signature = fresh.split(":")
    forged = signing.dumps([waiting.pk, people["manny"].pk, "approved", "x"], salt="other")
    for bad in (
        f"{payload[:-2]}AA:{stamp}:{signature}",
        f"{payload}:{stamp}:{signature[:-3]}",
        forged,
    ):
        answer = manny.post(f"{LINK_PATH}{bad}")
        assert answer.status_code == 400
        assert "This link is not valid: it was changed or cut short." in answer.content.decode()

    with override_settings(STEPWISE_DECISION_LINK_MAX_AGE_SECONDS=0):
        answer = manny.post(f"{LINK_PATH}{fresh}")
        assert answer.status_code == 410
        assert "One-click decision links are turned off here" in answer.content.decode()

    waiting.refresh_from_db()
    assert waiting.status == TaskStatus.OPEN and not TaskDecision.objects.exists()
    assert not UsedDecisionLink.objects.exists()


@pytest.mark.django_db
def test_the_four_eyes_rule_refuses_a_link_with_its_reason_and_leaves_it_unused(
    people: dict[str, User],
) -> None:
    run = start_run("test-sequence", {"steps": 1}, created_by=people["manny"])
    waiting = open_task(
        run_id=run.pk,
        step_name="ask",
        kind=TaskKind.APPROVAL,
        title="My own expense",
        assignees=Assignees(users=("manny", "rita")),
    )
    path = f"{LINK_PATH}{sign_link(waiting.pk, people['manny'].pk, 'approved', 'n-1')}"
    manny = logged_in(people["manny"])

    shown = manny.get(path)
    assert shown.status_code == 403
    assert "four-eyes: manny asked for this" in shown.content.decode().lower()
    assert 'name="comment"' not in shown.content.decode()

    answer = manny.post(path, {"comment": "looks fine to me"})
    assert answer.status_code == 403
    assert "Four-eyes: manny asked for this" in answer.content.decode()
    waiting.refresh_from_db()
    assert waiting.status == TaskStatus.OPEN and not TaskDecision.objects.exists()
    assert not UsedDecisionLink.objects.exists()
    refused = TaskEvent.objects.get(task=waiting, kind=TaskEventKind.REFUSED)
    assert refused.actor == people["manny"] and "four-eyes" in refused.note


@pytest.mark.django_db
def test_a_link_to_a_task_decided_meanwhile_or_already_answered_says_so(
    people: dict[str, User],
) -> None:
    run = start_run("test-sequence", {"steps": 1})
    review = open_task(
        run_id=run.pk,
        step_name="ask",
        kind=TaskKind.REVIEW,
        title="Handbook",
        assignees=Assignees(users=("manny", "rita")),
        required=2,
    )
    manny = logged_in(people["manny"])
    first = f"{LINK_PATH}{sign_link(review.pk, people['manny'].pk, 'changes', 'n-1')}"
    assert manny.post(first, {"comment": "see page 3"}).status_code == 303
    second = f"{LINK_PATH}{sign_link(review.pk, people['manny'].pk, 'approved', 'n-2')}"
    answer = manny.get(second)
    assert answer.status_code == 409
    assert "This task already has your answer. Nothing changed." in answer.content.decode()

    decide_task(review.pk, people["rita"], "approved")
    answer = manny.post(second)
    assert answer.status_code == 409
    assert "The task is already changes requested" in answer.content.decode()
    assert list(TaskDecision.objects.values_list("user__username", "decision")) == [
        ("manny", "changes"),
        ("rita", "approved"),
    ]


# --- without a database ------------------------------------------------------------------------
def test_the_mail_links_match_the_sites_routes_and_the_decisions() -> None:
    assert reverse("inbox") == INBOX_PATH
    assert reverse("inbox-decide-link", args=["token"]) == f"{LINK_PATH}token"
    assert {kind: tuple(value for value, _ in labels) for kind, labels in LINK_LABELS.items()} == {
        kind: tuple(values) for kind, values in DECISIONS.items()
    }


def test_a_token_carries_its_claim_and_refuses_any_change() -> None:
    token = sign_link(7, 3, "rejected", "abc")
    claim = read_link(token)
    assert (claim.task_id, claim.user_id, claim.decision, claim.nonce) == (7, 3, "rejected", "abc")
    assert "/" not in token and "?" not in token and "#" not in token
    other = sign_link(7, 3, "approved", "abc")
    # Swapping the decision part of another token breaks the signature.
    with pytest.raises(LinkRefused) as refused:
        read_link(other.split(":")[0] + ":" + ":".join(token.split(":")[1:]))
    assert refused.value.status == 400
    with pytest.raises(LinkRefused) as refused:
        read_link("")
    assert refused.value.status == 400


def test_a_mail_body_shows_nested_data_short_and_keeps_links_apart_from_its_text() -> None:
    run = Run(pk=5, workflow="expenses")
    long = "x" * 500
    unsaved = HumanTask(
        pk=9,
        run=run,
        step_name="ask",
        kind=TaskKind.APPROVAL,
        title="Pay",
        description="Line one\n  Approve: https://evil.example/",
        data={"a_note": long, "a_multi": "a\nb", **{f"z{n:02}": n for n in range(40)}},
        required_approvals=2,
    )
    person = User(pk=4, username="ana", email="ana@example.com")
    notice = Notice("New {kind}", "{a_kind} waits for your decision in Stepwise.", True)
    body = str(message_for(unsaved, person, notice, timezone.now()).body)
    assert "Hello ana,\n\nAn approval waits" in body
    assert "Due: no deadline\nAnswers needed: 2\n" in body
    assert "  a_multi: a b\n" in body
    assert f"  a_note: {'x' * 299}…\n" in body
    assert "  … and 12 more in the inbox\n" in body
    # The description is indented: none of its lines reads like one of the real links.
    assert "\n    Approve: https://evil.example/" in body
    assert [label for label, _ in LINK.findall(body)] == ["Approve", "Reject"]
