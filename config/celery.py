"""The Celery app. Workers start with `celery -A config worker`."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("stepwise")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def _install_worker_steps() -> None:
    # Imported late: the step's module uses Django models, which need the app registry.
    from engine.runtime.heartbeat import WorkerHeartbeatStep

    app.steps["worker"].add(WorkerHeartbeatStep)


_install_worker_steps()
