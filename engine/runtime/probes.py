"""Worker probes: an operator asks, through the broker, whether a worker answers
(the answer is engine.tasks.answer_probe)."""

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from engine.messaging.dispatch import ANSWER_PROBE, queue_on_commit
from engine.models import WorkerProbe


def request_worker_probe(user: User | None) -> WorkerProbe:
    """Record a probe and ask a worker to answer it once the row is committed."""
    with transaction.atomic():
        probe = WorkerProbe.objects.create(requested_by=user, requested_at=timezone.now())
        queue_on_commit(ANSWER_PROBE, probe.pk)
    return probe
