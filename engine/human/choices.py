"""What people may answer to each kind of task, and the statuses that mean it was decided."""

from engine.models import TaskKind, TaskStatus

DECISIONS = {
    TaskKind.APPROVAL: ("approved", "rejected"),
    TaskKind.REVIEW: ("approved", "changes", "rejected"),
}
DECIDED = (TaskStatus.APPROVED, TaskStatus.CHANGES, TaskStatus.REJECTED)
LABELS = {"approved": "Approve", "changes": "Request changes", "rejected": "Reject"}
