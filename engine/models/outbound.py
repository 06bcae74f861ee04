"""What workflows may send out: the secrets an administrator granted to each workflow."""

from django.db import models


class SecretGrant(models.Model):
    """`workflow` may put the secret `name` ({{ secrets.NAME }}) into its HTTP requests."""

    workflow = models.CharField(max_length=100)
    name = models.CharField(max_length=100, help_text="Read from STEPWISE_SECRET_<NAME>.")
    note = models.CharField(max_length=300, blank=True)
    granted_by = models.ForeignKey(
        "auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    granted_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workflow", "name"], name="secret_grant_once")
        ]
        ordering = ["workflow", "name"]

    def __str__(self) -> str:
        return f"{self.name} → {self.workflow}"


class SecretGrantAction(models.TextChoices):
    GRANTED = "granted", "Granted"
    REVOKED = "revoked", "Revoked"


class SecretGrantEvent(models.Model):
    """The audit trail: who granted or revoked which secret for which workflow, and when."""

    workflow = models.CharField(max_length=100)
    name = models.CharField(max_length=100)
    action = models.CharField(max_length=10, choices=SecretGrantAction.choices)
    actor = models.ForeignKey(
        "auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(max_length=300, blank=True)
    at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["workflow", "-at"], name="secret_audit_by_workflow")]

    def __str__(self) -> str:
        return f"{self.action} {self.name} for {self.workflow}"
