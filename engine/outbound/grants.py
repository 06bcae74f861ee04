"""Which workflow may send which secret: an allow-list an administrator keeps, audited.

A designer writes `{{ secrets.CRM_TOKEN }}` into an HTTP node; the worker sends it only when
the run's workflow holds a grant for CRM_TOKEN. Validation flags a missing grant while the
graph is edited; the worker's check is the one that counts (a grant revoked after publishing
stops the next request).
"""

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from engine.core.errors import NonRetryableError
from engine.models import Run, SecretGrant, SecretGrantAction, SecretGrantEvent
from engine.outbound.secrets import NAME_PATTERN

WORKFLOW_SLUG_MAX = 100
NOTE_MAX = 300


class GrantInputError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message


class SecretNotGranted(NonRetryableError):
    """The run's workflow holds no grant for a secret it tried to send."""


def _checked(workflow: object, name: object, note: object) -> tuple[str, str, str]:
    if not isinstance(workflow, str) or not workflow or len(workflow) > WORKFLOW_SLUG_MAX:
        raise GrantInputError("workflow", "the workflow's slug")
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        raise GrantInputError("name", "letters, digits and underscores (at most 100)")
    if not isinstance(note, str) or len(note) > NOTE_MAX:
        raise GrantInputError("note", f"text of at most {NOTE_MAX} characters")
    # Names are case-insensitive (one environment variable each): stored upper case.
    return workflow, name.upper(), note


def grant_secret(workflow: str, name: str, by: User | None, note: str = "") -> SecretGrant:
    """Let `workflow` send the secret; idempotent (a second grant changes nothing)."""
    workflow, name, note = _checked(workflow, name, note)
    with transaction.atomic():
        grant, created = SecretGrant.objects.get_or_create(
            workflow=workflow,
            name=name,
            defaults={"note": note, "granted_by": by, "granted_at": timezone.now()},
        )
        if created:
            _audit(workflow, name, SecretGrantAction.GRANTED, by, note)
    return grant


def revoke_secret(workflow: str, name: str, by: User | None, note: str = "") -> bool:
    """Take the grant back; False when there was none."""
    workflow, name, note = _checked(workflow, name, note)
    with transaction.atomic():
        deleted, _ = SecretGrant.objects.filter(workflow=workflow, name=name).delete()
        if deleted:
            _audit(workflow, name, SecretGrantAction.REVOKED, by, note)
    return bool(deleted)


def _audit(workflow: str, name: str, action: str, by: User | None, note: str) -> None:
    SecretGrantEvent.objects.create(
        workflow=workflow, name=name, action=action, actor=by, note=note, at=timezone.now()
    )


def granted_secrets(workflow: str) -> set[str]:
    return set(SecretGrant.objects.filter(workflow=workflow).values_list("name", flat=True))


def require_grants(run_id: int, names: set[str]) -> None:
    """In the step about to send them: every secret must be granted to the run's workflow."""
    if not names:
        return
    workflow = Run.objects.filter(pk=run_id).values_list("workflow", flat=True).first()
    if workflow is None:
        raise SecretNotGranted("secrets are sent only by runs of a workflow granted them")
    missing = sorted({name.upper() for name in names} - granted_secrets(workflow))
    if missing:
        raise SecretNotGranted(
            f"workflow {workflow!r} may not send the secret(s) {', '.join(missing)}: an "
            "administrator grants them (in the admin, Secret grants; or POST "
            f"/api/workflows/{workflow}/secrets)"
        )
