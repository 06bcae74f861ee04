"""Document review in the inbox: every reviewer decides one task, late ones are reminded at the
first deadline, and the review closes at the second; the worst verdict wins."""

from datetime import timedelta

from engine.core.testing import WorkflowTester
from engine.demos import document_review

DOCUMENT = {"id": "doc-1", "title": "Travel policy", "type": "policy", "department": "legal"}


def test_a_late_reviewer_is_reminded_at_the_first_deadline_and_their_review_still_counts() -> None:
    """Admin misses day 7, is reminded then, reviews on day 8 (before day 9): approved."""
    tester = WorkflowTester()
    tester.decide("review", "approved", by="approver", after=timedelta(days=2))
    tester.decide("review", "approved", by="admin", after=timedelta(days=8))

    run = tester.run(document_review.document_review, DOCUMENT)

    assert run.status == "completed"
    [task] = tester.tasks
    assert task.kind == "review" and task.required == 2 and task.reminded == 1
    assert run.output["outcome"] == "approved"
    assert [review["user"] for review in run.output["reviews"]] == ["approver", "admin"]
    assert run.elapsed == timedelta(days=8)
    assert run.step_names() == ["assign-reviewers", "review", "review:remind", "aggregate-feedback"]


def test_a_review_missing_at_the_second_deadline_leaves_the_review_incomplete() -> None:
    """With no review from admin by day 9, the outcome is incomplete and admin is missing."""
    tester = WorkflowTester()
    tester.decide("review", "approved", by="approver", after=timedelta(days=3))

    run = tester.run(document_review.document_review, DOCUMENT)

    assert run.output["outcome"] == "incomplete"
    assert run.output["missing"] == ["admin"]
    assert run.elapsed == timedelta(days=9)
    assert tester.tasks[0].status == "timed_out"


def test_reviews_in_time_need_no_reminder_and_the_worst_verdict_wins() -> None:
    """Both reviews inside a week: no reminder; one change request makes it needs_changes."""
    tester = WorkflowTester()
    tester.decide("review", "changes", by="admin", after=timedelta(days=1), comment="page 3")
    tester.decide("review", "approved", by="approver", after=timedelta(days=4))

    run = tester.run(document_review.document_review, DOCUMENT)

    assert tester.tasks[0].reminded == 0
    assert run.output["outcome"] == "needs_changes"
    assert run.output["reviews"][0]["comment"] == "page 3"
    assert run.elapsed == timedelta(days=4)


def test_someone_not_asked_cannot_review() -> None:
    """A decision by a person the task was not assigned to is refused and changes nothing."""
    tester = WorkflowTester()
    tester.decide("review", "rejected", by="mallory", after=timedelta(days=1))
    tester.decide("review", "approved", by="approver", after=timedelta(days=2))
    tester.decide("review", "approved", by="admin", after=timedelta(days=2))

    run = tester.run(document_review.document_review, DOCUMENT)

    assert tester.desk.refused == [("review", "mallory")]
    assert run.output["outcome"] == "approved"
