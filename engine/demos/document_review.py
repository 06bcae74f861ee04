# engine.core.step(...) is annotated "-> Any", which strict mypy calls an untyped decorator.
"""Review workflows: reviewers asked in parallel, reminded at a deadline, given a second one."""

from datetime import timedelta
from typing import Any

from engine.core import WaitTimeout, now, parallel, step, wait_for, workflow

FIRST_DEADLINE = timedelta(days=7)
SECOND_DEADLINE = timedelta(days=2)
"""Counted from the first deadline, when the reminders go out."""

REVIEWERS = {
    "legal": [
        {"id": "rev-ana", "email": "ana@example.com"},
        {"id": "rev-bo", "email": "bo@example.com"},
    ],
}
"""Who reviews each department's documents (simulated directory)."""


@step(name="assign-reviewers")
def assign_reviewers(document_type: str, department: str) -> list[dict[str, str]]:
    """Pick the reviewers of a document (simulated directory)."""
    return REVIEWERS.get(department, [{"id": "rev-default", "email": "reviews@example.com"}])


@step
def request_review(document_id: str, reviewer: dict[str, str]) -> dict[str, Any]:
    """Ask one reviewer for a review (simulated)."""
    return {"event": "Review.requested", "documentId": document_id, "reviewerId": reviewer["id"]}


@step
def send_review_reminder(document: dict[str, Any], reviewer: dict[str, str]) -> dict[str, Any]:
    """Remind a reviewer (simulated email)."""
    return {
        "sent": True,
        "to": reviewer["email"],
        "template": "review-reminder",
        "documentId": document["id"],
    }


@step(name="aggregate-feedback")
def aggregate_feedback(
    document_id: str, reviews: list[dict[str, Any]], missing: list[str]
) -> dict[str, Any]:
    """Decide the document's fate from its reviews (simulated announcement)."""
    statuses = [review.get("status") for review in reviews]
    if "rejected" in statuses:
        outcome = "rejected"
    elif "changes-requested" in statuses:
        outcome = "needs_changes"
    elif missing:
        outcome = "incomplete"
    else:
        outcome = "approved"
    return {"documentId": document_id, "outcome": outcome, "reviews": reviews, "missing": missing}


@workflow("document-review", tags=("demo", "human-in-the-loop"))
def document_review(document: dict[str, Any]) -> dict[str, Any]:
    """Review a document: ask reviewers in parallel, remind late ones, then aggregate."""
    reviewers = assign_reviewers(document["type"], document["department"])
    parallel(
        [
            request_review.named(f"request-review-{r['id']}").call(document["id"], r)
            for r in reviewers
        ],
        name="request-reviews",
    )
    # Deadlines are moments, not durations per wait: the waits run one reviewer after the
    # other, and a fixed moment keeps the last reviewer from getting more time than the first.
    # (Events that arrive before their wait begins are kept for it, so nobody is missed.)
    first_deadline = now() + FIRST_DEADLINE
    reviews: dict[str, dict[str, Any]] = {}
    late: list[dict[str, str]] = []
    for reviewer in reviewers:
        try:
            reviews[reviewer["id"]] = _review(document, reviewer, first_deadline - now())
        except WaitTimeout:
            late.append(reviewer)
    second_deadline = first_deadline + SECOND_DEADLINE
    for reviewer in late:
        send_review_reminder.named(f"remind-{reviewer['id']}")(document, reviewer)
    missing = []
    for reviewer in late:
        try:
            reviews[reviewer["id"]] = _review(document, reviewer, second_deadline - now())
        except WaitTimeout:
            missing.append(reviewer["id"])
    ordered = [reviews[r["id"]] for r in reviewers if r["id"] in reviews]
    result: dict[str, Any] = aggregate_feedback(document["id"], ordered, missing)
    return result


def _review(document: dict[str, Any], reviewer: dict[str, str], left: timedelta) -> dict[str, Any]:
    event = wait_for(
        "Review.submitted",
        match={"documentId": document["id"], "reviewerId": reviewer["id"]},
        timeout=max(left, timedelta(0)),
        name=f"review-{reviewer['id']}",
    )
    review: dict[str, Any] = event["payload"]
    return review
