# engine.core.step(...) is annotated "-> Any", which strict mypy calls an untyped decorator.
"""Loop workflows: one step per item, with a durable pause between batches as a rate limit."""

from datetime import timedelta
from typing import Any

from engine.core import idempotency_key, metric, progress, sleep, step, workflow

BATCH_SIZE = 10
BATCH_PAUSE = timedelta(seconds=1)
"""Ten emails a second on average, as the seed's 100 ms between emails."""


@step(name="get-recipients")
def get_recipients(segment: str) -> list[dict[str, str]]:
    """List the people of a segment (simulated: twelve made-up people)."""
    return [
        {"id": f"{segment}-{number}", "email": f"{segment}-{number}@example.com"}
        for number in range(1, 13)
    ]


@step
def send_campaign_email(recipient: dict[str, str], template: str) -> dict[str, Any]:
    """Send one personalised campaign email (simulated)."""
    return {
        "sent": True,
        "to": recipient["email"],
        "template": template,
        "data": {"greeting": f"Hello {recipient['id']}"},
        # A real mail API would be handed this key so a retried send is not delivered twice.
        "idempotency_key": idempotency_key(),
    }


@workflow("email-campaign", tags=("demo", "loop"))
def email_campaign(campaign: dict[str, Any]) -> dict[str, Any]:
    """Send a campaign to each recipient of a segment, one step each, pausing between batches."""
    recipients = get_recipients(campaign["segment"])
    batch_size = int(campaign.get("batch_size", BATCH_SIZE))
    pause = timedelta(seconds=float(campaign.get("pause_seconds", BATCH_PAUSE.total_seconds())))
    for index, recipient in enumerate(recipients):
        if index and index % batch_size == 0:
            # The run holds no worker while it sleeps: a long pause costs a timer row, no more.
            sleep(pause, name=f"rate-limit-{index // batch_size}")
        # One journal entry per recipient: a crash mid-campaign never sends anyone twice.
        send_campaign_email.named(f"send-{recipient['id']}")(recipient, campaign["template"])
        progress(index + 1, len(recipients), f"sent to {recipient['id']}")
    metric("emails_sent", len(recipients))
    return {"sent": len(recipients)}
