"""What else learns of a task's decision, inside the transaction that settles it.

Runs learn from their waits (engine.human.deciding); rooms above this one (state machines)
register here instead of being imported, so the decision and what it causes commit together.
"""

from collections.abc import Callable

from engine.models import HumanTask

SettledHook = Callable[[HumanTask], None]

_hooks: list[SettledHook] = []


def register_settled_hook(hook: SettledHook) -> None:
    if hook not in _hooks:
        _hooks.append(hook)


def run_settled_hooks(task: HumanTask) -> None:
    for hook in _hooks:
        hook(task)
