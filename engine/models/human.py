"""Human tasks and what surrounds them: decisions, the audit trail, delegations, saved inbox
views and used decision links."""

from datetime import UTC, datetime

from django.db import models
from django.db.models import Value
from django.db.models.functions import Coalesce

from engine.models.runs import Run


class TaskKind(models.TextChoices):
    APPROVAL = "approval", "Approval"
    REVIEW = "review", "Review"


NEVER = datetime(9999, 12, 31, tzinfo=UTC)
"""The due date of a task without one, when tasks sort by due date: after every real one."""


class TaskStatus(models.TextChoices):
    OPEN = "open", "Open"
    APPROVED = "approved", "Approved"
    CHANGES = "changes", "Changes requested"
    REJECTED = "rejected", "Rejected"
    TIMED_OUT = "timed_out", "Timed out"
    CANCELLED = "cancelled", "Cancelled"
    WITHDRAWN = "withdrawn", "Withdrawn"
    """A join no longer needed the branch that asked: a retry never reopens it."""


class HumanTask(models.Model):
    """An approval or review a run waits for; only its assignees may decide it."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="tasks")
    step_name = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=TaskKind.choices)
    title = models.CharField(max_length=300)
    description = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    assignees = models.ManyToManyField("auth.User", blank=True, related_name="assigned_tasks")
    assigned_groups = models.ManyToManyField("auth.Group", blank=True, related_name="tasks")
    required_approvals = models.PositiveIntegerField(default=1)
    status = models.CharField(max_length=16, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    created_at = models.DateTimeField()
    due_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    # Four-eyes: besides whoever started the run, the person the workflow names as requester
    # may not decide; nor may whoever decided one of the `distinct_from` stages of this run.
    requester = models.ForeignKey(
        "auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    distinct_from = models.JSONField(default=list, blank=True)
    any_rejection_rejects = models.BooleanField(
        default=True,
        help_text="The first rejection rejects an approval (else only when the "
        "rejections leave too few people to approve).",
    )
    # A group task claimed by one member is theirs alone until they let it go.
    claimed_by = models.ForeignKey(
        "auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="claimed_tasks"
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    # What the people deciding fill in when they approve (a small JSON Schema), and the
    # decisions that need a comment (e.g. a rejection must say why).
    form = models.JSONField(default=dict, blank=True)
    comment_required = models.JSONField(default=list, blank=True)
    # The task's clock as its workflow set it, for people to see (the run's timers keep it).
    remind_at = models.DateTimeField(null=True, blank=True)
    escalate_to = models.JSONField(default=dict, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    # A task a state machine's state opened on entry: its decision becomes the instance's
    # `task.<outcome>` event, and leaving the state withdraws it while still open.
    machine_instance = models.ForeignKey(
        "engine.MachineInstance",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tasks",
    )
    machine_state = models.CharField(max_length=64, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["run", "step_name"], name="task_per_step")]
        indexes = [
            models.Index(fields=["status", "-created_at"], name="task_open"),
            # The inbox reads open tasks in due order and stops at a page (bench/inbox.py).
            models.Index(
                Coalesce("due_at", Value(NEVER), output_field=models.DateTimeField()),
                "id",
                name="task_open_by_due",
                condition=models.Q(status="open"),
            ),
            models.Index(
                fields=["machine_instance", "machine_state"],
                name="task_of_machine_state",
                condition=models.Q(machine_instance__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.title}"


class TaskDecision(models.Model):
    """One assignee's decision with its comment: the audit trail of a task."""

    task = models.ForeignKey(HumanTask, on_delete=models.CASCADE, related_name="decisions")
    # The person whose decision it is (an assignee), counted once per task...
    user = models.ForeignKey("auth.User", on_delete=models.PROTECT, related_name="+")
    # ...and who took it for them, when a delegate acted on their behalf.
    decided_by = models.ForeignKey(
        "auth.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decision = models.CharField(max_length=16)
    comment = models.TextField(blank=True)
    form = models.JSONField(default=dict, blank=True)
    decided_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["task", "user"], name="one_decision_per_assignee")
        ]
        ordering = ["decided_at"]

    def __str__(self) -> str:
        return f"{self.user} {self.decision}"


class TaskEventKind(models.TextChoices):
    CREATED = "created", "Created"
    CLAIMED = "claimed", "Claimed"
    UNCLAIMED = "unclaimed", "Let go"
    REASSIGNED = "reassigned", "Reassigned"
    REMINDED = "reminded", "Reminded"
    ESCALATED = "escalated", "Escalated"
    DECISION = "decision", "Decision"
    REFUSED = "refused", "Refused"
    SETTLED = "settled", "Settled"
    CLOSED = "closed", "Closed"
    REOPENED = "reopened", "Reopened"


class TaskEvent(models.Model):
    """One line of a task's audit trail: what happened, who did it (for whom), when, why."""

    task = models.ForeignKey(HumanTask, on_delete=models.CASCADE, related_name="history")
    kind = models.CharField(max_length=16, choices=TaskEventKind.choices)
    actor = models.ForeignKey(
        "auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    on_behalf_of = models.ForeignKey(
        "auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.TextField(blank=True)
    detail = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["task", "at"], name="task_history")]

    def __str__(self) -> str:
        return f"{self.task_id} {self.kind}"


class Delegation(models.Model):
    """Out of office: `delegate` decides `user`'s tasks between two dates, on their behalf.

    Not transitive: a delegate acts only on tasks assigned to `user` themselves.
    """

    user = models.ForeignKey("auth.User", on_delete=models.CASCADE, related_name="delegations")
    delegate = models.ForeignKey("auth.User", on_delete=models.CASCADE, related_name="+")
    starts_on = models.DateField()
    ends_on = models.DateField()
    workflows = models.JSONField(
        default=list, blank=True, help_text="Only these workflows' tasks (all when empty)."
    )
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(user=models.F("delegate")), name="delegate_is_someone_else"
            ),
            models.CheckConstraint(
                condition=models.Q(starts_on__lte=models.F("ends_on")), name="delegation_dates"
            ),
        ]
        indexes = [models.Index(fields=["delegate", "ends_on"], name="delegated_to")]

    def __str__(self) -> str:
        return f"{self.user} → {self.delegate} ({self.starts_on} to {self.ends_on})"


class SavedView(models.Model):
    """A person's named inbox query (view, filters, sort), one click away."""

    user = models.ForeignKey("auth.User", on_delete=models.CASCADE, related_name="saved_views")
    name = models.CharField(max_length=100)
    params = models.JSONField(default=dict)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "name"], name="saved_view_name_per_user")
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.name}"


class UsedDecisionLink(models.Model):
    """A one-click decision link that decided: its nonce, so the same link never decides again."""

    nonce = models.CharField(max_length=64, unique=True)
    task = models.ForeignKey(HumanTask, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey("auth.User", on_delete=models.CASCADE, related_name="+")
    decision = models.CharField(max_length=16)
    used_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.user_id} {self.decision} on task {self.task_id}"
