"""What the designer edits: a workflow's draft graph, its revision and its template settings,
and a state machine's draft document.

Published versions belong to the engine (engine.models.GraphVersion, MachineVersion): it runs
them, and only its publishing actions (engine.graph.publishing, engine.machines.publishing)
write them.
"""

from django.db import models


class Workflow(models.Model):
    slug = models.SlugField(max_length=100, unique=True)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    draft = models.JSONField(default=dict)
    # Bumped by every saved draft: a save naming an older revision is refused, never merged.
    revision = models.PositiveIntegerField(default=1)
    is_template = models.BooleanField(default=False)
    parameters = models.JSONField(default=list, blank=True)
    # Copied into each published version: whether cancelling a run undoes its steps first.
    compensate_on_cancel = models.BooleanField(default=True)
    # Copied into each published version too: how long a run may take (None: no limit).
    timeout_seconds = models.FloatField(null=True, blank=True)
    # Sample outputs the designer pinned per node id, and each node's last test output: what
    # a node tested alone reads as `nodes.<id>.output` of the steps before it. Never published.
    pins = models.JSONField(default=dict, blank=True)
    test_outputs = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        "auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    updated_by = models.ForeignKey(
        "auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.title or self.slug


class Machine(models.Model):
    """A state machine's draft (engine.core.machines' document form), edited like a graph's.

    Machines have their own slugs, apart from workflows': their versions, instances and URLs
    are their own, so `order` may name both a workflow and a machine.
    """

    slug = models.SlugField(max_length=100, unique=True)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    draft = models.JSONField(default=dict)
    # Bumped by every saved draft: a save naming an older revision is refused, never merged.
    revision = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(
        "auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    updated_by = models.ForeignKey(
        "auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.title or self.slug
