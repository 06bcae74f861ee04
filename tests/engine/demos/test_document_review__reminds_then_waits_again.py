"""Document review: parallel requests, a reminder at the first deadline, a second deadline."""

from datetime import timedelta
from typing import Any

from engine.demos import document_review
from engine.testing import WorkflowTester

DOCUMENT = {"id": "doc-1", "type": "policy", "department": "legal"}


def review(tester: WorkflowTester, reviewer: str, days: float, status: str = "approved") -> None:
    tester.send_event(
        "Review.submitted",
        {"documentId": "doc-1", "reviewerId": reviewer, "status": status},
        after=timedelta(days=days),
    )


def reminder_times(tester: WorkflowTester) -> list[tuple[str, timedelta]]:
    sent: list[tuple[str, timedelta]] = []

    def remind(document: dict[str, Any], reviewer: dict[str, str]) -> dict[str, Any]:
        sent.append((reviewer["id"], tester.clock - tester.started))
        return {"sent": True}

    tester.fake(document_review.send_review_reminder, remind)
    return sent


def test_a_late_reviewer_is_reminded_at_the_first_deadline_and_their_review_still_counts() -> None:
    """Bo misses day 7, is reminded then, reviews on day 8 (before day 9): the review completes."""
    tester = WorkflowTester()
    sent = reminder_times(tester)
    review(tester, "rev-ana", days=2)
    review(tester, "rev-bo", days=8)

    run = tester.run(document_review.document_review, DOCUMENT)

    assert run.status == "completed"
    assert sent == [("rev-bo", timedelta(days=7))]
    assert run.output["outcome"] == "approved"
    assert [r["reviewerId"] for r in run.output["reviews"]] == ["rev-ana", "rev-bo"]
    assert run.elapsed == timedelta(days=8)
    assert run.step_names() == [
        "assign-reviewers",
        "request-reviews",
        "remind-rev-bo",
        "aggregate-feedback",
    ]


def test_reviews_are_requested_from_every_reviewer() -> None:
    """One request-review call per reviewer, made in one parallel group."""
    tester = WorkflowTester()
    review(tester, "rev-ana", days=1)
    review(tester, "rev-bo", days=1)

    tester.run(document_review.document_review, DOCUMENT)

    requested = [args[1]["id"] for args, _ in tester.call_args(document_review.request_review)]
    assert requested == ["rev-ana", "rev-bo"]


def test_a_review_missing_at_the_second_deadline_leaves_the_review_incomplete() -> None:
    """With no review from Bo by day 9, the outcome is incomplete and Bo is listed as missing."""
    tester = WorkflowTester()
    reminder_times(tester)
    review(tester, "rev-ana", days=3)

    run = tester.run(document_review.document_review, DOCUMENT)

    assert run.output["outcome"] == "incomplete"
    assert run.output["missing"] == ["rev-bo"]
    assert run.elapsed == timedelta(days=9)


def test_reviews_in_time_need_no_reminder_and_the_worst_verdict_wins() -> None:
    """Both reviews inside a week: no reminder; one change request makes it needs_changes."""
    tester = WorkflowTester()
    sent = reminder_times(tester)
    review(tester, "rev-bo", days=1, status="changes-requested")  # before Ana: kept for its wait
    review(tester, "rev-ana", days=4)

    run = tester.run(document_review.document_review, DOCUMENT)

    assert sent == []
    assert run.output["outcome"] == "needs_changes"
    assert run.elapsed == timedelta(days=4)
