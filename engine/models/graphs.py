"""Published graph versions, and the records their `action.record` nodes keep."""

from django.db import models


class GraphVersion(models.Model):
    """A published graph: immutable, numbered per workflow. Runs are pinned to one.

    The designer edits drafts; publishing hands the engine one of these, which is all the
    engine needs to run (and later replay) a graph workflow.
    """

    workflow = models.CharField(max_length=100)
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    graph = models.JSONField()
    note = models.TextField(blank=True)
    author = models.ForeignKey(
        "auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    published_at = models.DateTimeField()
    # A deleted workflow's versions stay for the runs pinned to them but start nothing new.
    retired = models.BooleanField(default=False)
    compensate_on_cancel = models.BooleanField(
        default=True, help_text="A cancelled run runs its compensation nodes before it ends."
    )
    timeout_seconds = models.FloatField(
        null=True,
        blank=True,
        help_text="A run still going this long after it started ends timed out (none: no limit).",
    )
    # Schedules and event triggers start runs: a version whose publisher may not start runs
    # keeps the previous version's in force until an operator activates its own.
    triggers_active = models.BooleanField(default=True)
    triggers_activated_by = models.ForeignKey(
        "auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    triggers_activated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workflow", "number"], name="graph_version_number")
        ]
        ordering = ["workflow", "-number"]

    def __str__(self) -> str:
        return f"{self.workflow} v{self.number}"

    @property
    def version(self) -> str:
        return f"v{self.number}"


class DraftSnapshot(models.Model):
    """A draft as it was when a designer test-ran it: what its test runs are pinned to.

    Test runs carry the version marker `draft rev N` (engine.graph.draft_runs); the draft goes
    on changing, so the graph they run (and replay) is kept here, once per revision.
    """

    workflow = models.CharField(max_length=100)
    revision = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    graph = models.JSONField()
    compensate_on_cancel = models.BooleanField(default=True)
    timeout_seconds = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workflow", "revision"], name="draft_snapshot_revision")
        ]

    def __str__(self) -> str:
        return f"{self.workflow} draft rev {self.revision}"

    @property
    def version(self) -> str:
        return f"draft rev {self.revision}"


class Record(models.Model):
    """A document in a named collection: what the `action.record` node creates and queries."""

    collection = models.CharField(max_length=100)
    key = models.CharField(max_length=100)
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    # The step that created it, so a retried create returns the same record.
    created_by_step = models.CharField(max_length=300, null=True, blank=True)  # noqa: DJ001

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["collection", "key"], name="record_key"),
            models.UniqueConstraint(
                fields=["created_by_step"],
                name="record_created_once",
                condition=models.Q(created_by_step__isnull=False),
            ),
        ]
        indexes = [models.Index(fields=["collection", "-created_at"], name="record_recent")]

    def __str__(self) -> str:
        return f"{self.collection}/{self.key}"
