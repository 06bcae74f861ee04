"""Task e-mails on assignment, reminder and escalation: one per person, sent after commit.

Each mail names the task, its run's workflow, what it is about and when it is due, and links to
it in the inbox; assignment and reminder mails also carry one-click decision links, each signed
for its recipient (engine.human.tokens). People without an e-mail address are skipped. A mail
that cannot be sent is logged: a notification never undoes or fails the change it announces.

The callers pass the people (engine.human.people.still_to_answer), as this module is imported by
engine.human.tasks and so cannot import it back.
"""

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone

from engine.human.choices import DECISIONS, LABELS
from engine.human.tokens import max_age_seconds, new_nonce, sign_link
from engine.models import HumanTask, TaskKind, TaskStatus

logger = logging.getLogger(__name__)

INBOX_PATH = "/inbox/"
LINK_PATH = "/inbox/decide/"
LINK_LABELS: dict[str, tuple[tuple[str, str], ...]] = {
    kind: tuple((decision, LABELS[decision]) for decision in decisions)
    for kind, decisions in DECISIONS.items()
}
# A task's data may be a whole document; a mail shows the gist and the inbox the rest.
MAX_DETAILS = 30
MAX_VALUE = 300


@dataclass(frozen=True)
class Notice:
    """One kind of task mail: its subject (before the title), first sentence, and links."""

    subject: str
    intro: str
    decision_links: bool
    by: str = ""


def assigned_on_commit(task: HumanTask, people: Iterable[User]) -> None:
    """Tell each of the people that the new task waits for them."""
    notice = Notice("New {kind}", "{a_kind} waits for your decision in Stepwise.", True)
    _send_on_commit(task, people, notice)


def reassigned_on_commit(
    task: HumanTask, *, before: Iterable[User], after: Iterable[User], by: User
) -> None:
    """Tell the people a reassignment added that the task is theirs now."""
    intro = "{by} gave you {a_kind_lower} to decide in Stepwise."
    notice = Notice("New {kind}", intro, True, by=by.get_username())
    _send_on_commit(task, _added(before, after), notice)


def reminded_on_commit(task: HumanTask, people: Iterable[User]) -> None:
    notice = Notice("Reminder", "{a_kind} still waits for your decision in Stepwise.", True)
    _send_on_commit(task, people, notice)


def escalated_on_commit(task: HumanTask, *, before: Iterable[User], after: Iterable[User]) -> None:
    """The people the escalation added get the task; those it had before learn of it."""
    before = list(before)
    added = _added(before, after)
    if not added:
        return  # it named only people who had the task already: nothing to tell anyone
    _send_on_commit(
        task,
        added,
        Notice(
            "Escalated to you",
            "{a_kind} waited too long for its first assignees and was escalated to you.",
            True,
        ),
    )
    _send_on_commit(
        task,
        before,
        Notice(
            "Escalated",
            "{a_kind} assigned to you waited too long and was escalated: more people may "
            "decide it now.",
            False,
        ),
    )


def _added(before: Iterable[User], after: Iterable[User]) -> list[User]:
    known = {person.pk for person in before}
    return [person for person in after if person.pk not in known]


def _send_on_commit(task: HumanTask, people: Iterable[User], notice: Notice) -> None:
    recipients = [person for person in people if person.is_active and person.email]
    if recipients:
        transaction.on_commit(lambda: send(task.pk, recipients, notice))


def send(task_id: int, recipients: list[User], notice: Notice) -> None:
    """Send each recipient their own mail about the task, if it is still open."""
    task = HumanTask.objects.select_related("run").filter(pk=task_id).first()
    if task is None or task.status != TaskStatus.OPEN:
        return
    now = timezone.now()
    for person in recipients:
        try:
            message_for(task, person, notice, now).send()
        except Exception:
            logger.exception(
                "the %s mail for task %s to %s failed", notice.subject, task_id, person
            )


def message_for(task: HumanTask, person: User, notice: Notice, now: datetime) -> EmailMessage:
    """The mail for one person; its decision links are theirs alone."""
    kind = TaskKind(task.kind).label.lower()
    a_kind = f"{'an' if kind[0] in 'aeiou' else 'a'} {kind}"
    words = {"kind": kind, "a_kind": a_kind.capitalize(), "a_kind_lower": a_kind, "by": notice.by}
    # A header may not hold a line break; a title from a workflow's input might.
    subject = f"{notice.subject.format(**words)}: {' '.join(task.title.split())}"
    body = _body(task, person, notice.intro.format(**words), notice.decision_links, now)
    return EmailMessage(
        subject=subject,
        body=body,
        to=[person.email],
        # Asks vacation responders not to answer a machine (RFC 3834).
        headers={"Auto-Submitted": "auto-generated"},
    )


def _body(task: HumanTask, person: User, intro: str, links: bool, now: datetime) -> str:
    base = str(settings.STEPWISE_BASE_URL).rstrip("/")
    lines = [f"Hello {person.get_full_name() or person.get_username()},", "", intro, ""]
    lines.append(f"Task: {' '.join(task.title.split())}")
    lines.append(f"Workflow: {task.run.workflow} (run #{task.run_id}, step {task.step_name})")
    lines.append(f"Due: {_when(task.due_at)}" if task.due_at else "Due: no deadline")
    if task.required_approvals > 1:
        lines.append(f"Answers needed: {task.required_approvals}")
    if task.description.strip():
        # Indented, so no line of it can pass for one of the links below.
        lines += ["", "About it:", *_indented(task.description)]
    details = _details(task.data)
    if details:
        lines += ["", "Details:", *_indented("\n".join(details))]
    lines += ["", "Open it in your inbox:", f"{base}{INBOX_PATH}#task-{task.pk}"]
    age = max_age_seconds()
    if links and age:
        # One nonce for all of a mail's links: once one of them decides, the others are used.
        nonce = new_nonce()
        until = _when(now + timedelta(seconds=age))
        lines += ["", f"Or decide in one click (the page asks you to confirm; until {until}):"]
        for decision, label in LINK_LABELS[task.kind]:
            token = sign_link(task.pk, person.pk, decision, nonce)
            lines.append(f"  {label}: {base}{LINK_PATH}{token}")
    lines += ["", "-- ", "Stepwise"]
    return "\n".join(lines) + "\n"


def _details(data: Any) -> list[str]:
    """The task's data as "key: value" lines, keys in name order, nested values as JSON."""
    if data in (None, "", {}, []):
        return []
    items = sorted(data.items()) if isinstance(data, dict) else [("value", data)]
    lines = [f"{key}: {_value(value)}" for key, value in items[:MAX_DETAILS]]
    if len(items) > MAX_DETAILS:
        lines.append(f"… and {len(items) - MAX_DETAILS} more in the inbox")
    return lines


def _value(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    text = " ".join(text.split())
    return text if len(text) <= MAX_VALUE else text[: MAX_VALUE - 1] + "…"


def _indented(text: str) -> list[str]:
    return [f"  {line}".rstrip() for line in text.strip().splitlines()]


def _when(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M %Z")
