"""The run page's actions for the user viewing it: `{% run_actions_for run as actions %}`."""

from typing import Any

from django import template

from engine.models import Run
from monitoring.run_actions import RunActions, run_actions

register = template.Library()


@register.simple_tag(takes_context=True)
def run_actions_for(context: dict[str, Any], run: Run) -> RunActions:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None:
        return RunActions(run)
    return run_actions(run, user)
