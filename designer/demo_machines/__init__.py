"""The seed's state machines drawn for the canvas, published by `manage.py load_demo`.

One module per demo, drawn with the helpers in `drawing.py`. The Python actions they call
(`demo.*`) live in engine/demos/graph_actions.py.
"""

import copy

from django.contrib.auth.models import User
from django.db import transaction

from designer.demo_machines.drawing import DemoMachine
from designer.demo_machines.order import ORDER_MACHINE
from designer.machine_drafts import create_machine, publish_machine_draft
from designer.models import Machine

__all__ = ["DEMO_MACHINES", "DemoMachine", "load_demo_machines"]

DEMO_MACHINES: tuple[DemoMachine, ...] = (ORDER_MACHINE,)


def load_demo_machines(user: User | None) -> list[tuple[str, bool]]:
    """Create and publish each demo machine that is missing: (slug, created) per demo.

    An existing machine of the same slug is left alone, edited or not.
    """
    loaded = []
    for demo in DEMO_MACHINES:
        if Machine.objects.filter(slug=demo.slug).exists():
            loaded.append((demo.slug, False))
            continue
        # One transaction: a demo that cannot be published leaves no draft behind.
        with transaction.atomic():
            machine, _ = create_machine(
                slug=demo.slug,
                title=demo.title,
                description=demo.description,
                definition=copy.deepcopy(demo.definition),
                user=user,
            )
            publish_machine_draft(machine, user, note="Demo")
        loaded.append((demo.slug, True))
    return loaded
