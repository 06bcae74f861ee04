# engine.core.step(...) is annotated "-> Any", which strict mypy calls an untyped decorator.
"""Review workflows: reviewers asked together in their inboxes, reminded at a deadline, given a
second one; the worst verdict wins."""

from datetime import timedelta
from typing import Any

from engine.core import review, step, workflow

FIRST_DEADLINE = timedelta(days=7)
SECOND_DEADLINE = timedelta(days=2)
"""Counted from the first deadline, when the reminders go out."""

REVIEWERS = {"legal": ["approver", "admin"]}
"""Who reviews each department's documents (simulated directory of user names)."""

INPUT_SCHEMA = {
    "type": "object",
    "required": ["id", "type", "department"],
    "properties": {
        "id": {"type": "string", "title": "Document", "default": "doc-1"},
        "title": {"type": "string", "title": "Title", "default": "Travel policy"},
        "type": {"type": "string", "title": "Type", "default": "policy"},
        "department": {"type": "string", "title": "Department", "default": "legal"},
    },
}


@step(name="assign-reviewers")
def assign_reviewers(document_type: str, department: str) -> list[str]:
    """Pick the reviewers of a document (simulated directory)."""
    return REVIEWERS.get(department, ["approver"])


@step(name="aggregate-feedback")
def aggregate_feedback(
    document_id: str, reviews: list[dict[str, Any]], missing: list[str]
) -> dict[str, Any]:
    """Decide the document's fate from its reviews (simulated announcement)."""
    verdicts = [review["decision"] for review in reviews]
    if "rejected" in verdicts:
        outcome = "rejected"
    elif "changes" in verdicts:
        outcome = "needs_changes"
    elif missing:
        outcome = "incomplete"
    else:
        outcome = "approved"
    return {"documentId": document_id, "outcome": outcome, "reviews": reviews, "missing": missing}


@workflow("document-review", tags=("demo", "human-in-the-loop"), input_schema=INPUT_SCHEMA)
def document_review(document: dict[str, Any]) -> dict[str, Any]:
    """Review a document: every reviewer decides in the inbox; late ones are reminded."""
    reviewers = assign_reviewers(document["type"], document["department"])
    verdict = review(
        f"Review: {document.get('title') or document['id']}",
        users=reviewers,
        data={"document": document["id"], "type": document["type"]},
        reminder=FIRST_DEADLINE,
        timeout=FIRST_DEADLINE + SECOND_DEADLINE,
        name="review",
    )
    reviewed = {decision["user"] for decision in verdict.decisions}
    missing = [reviewer for reviewer in reviewers if reviewer not in reviewed]
    result: dict[str, Any] = aggregate_feedback(document["id"], verdict.decisions, missing)
    return result
