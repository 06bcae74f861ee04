"""Engine actions: each owns its transaction and sends messages only after commit."""

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from engine.models import WorkerProbe


def request_worker_probe(user: User | None) -> WorkerProbe:
    """Record a probe and ask a worker to answer it once the row is committed."""
    from engine.tasks import answer_probe

    with transaction.atomic():
        probe = WorkerProbe.objects.create(requested_by=user, requested_at=timezone.now())
        transaction.on_commit(lambda: answer_probe.delay(probe.pk))
    return probe
