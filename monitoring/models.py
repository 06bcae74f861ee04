"""Monitoring's own tables: what people keep for themselves while watching runs."""

from django.db import models


class SavedRunView(models.Model):
    """A person's named runs-explorer filters, one click away (as the inbox's saved views)."""

    user = models.ForeignKey("auth.User", on_delete=models.CASCADE, related_name="saved_run_views")
    name = models.CharField(max_length=100)
    params = models.JSONField(default=dict)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "name"], name="saved_run_view_name_per_user")
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.name}"
