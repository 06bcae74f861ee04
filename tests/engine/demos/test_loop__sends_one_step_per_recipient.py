"""The email campaign sends one named step per recipient and sleeps between batches."""

from datetime import timedelta

from engine.core import idempotency_key
from engine.core.testing import WorkflowTester
from engine.demos import loop

RECIPIENTS = [{"id": f"r{n}", "email": f"r{n}@example.com"} for n in range(1, 26)]


def test_one_step_per_recipient_named_after_them_with_a_pause_between_batches() -> None:
    """25 recipients in batches of 10 give steps send-r1…send-r25 and two 1-second pauses."""
    tester = WorkflowTester()
    tester.fake(loop.get_recipients, returns=RECIPIENTS)

    run = tester.run(loop.email_campaign, {"segment": "trial", "template": "spring"})

    assert run.status == "completed"
    assert run.output == {"sent": 25}
    assert run.step_names() == ["get-recipients"] + [f"send-r{n}" for n in range(1, 26)]
    assert tester.calls(loop.send_campaign_email) == 25
    assert run.elapsed == timedelta(seconds=2)
    assert run.metrics == [("emails_sent", 25.0)]
    assert run.progress[-1] == {"current": 25, "total": 25, "message": "sent to r25"}


def test_the_pause_and_batch_size_come_from_the_campaign() -> None:
    """Twelve recipients in batches of 5 with a one-minute pause take two minutes."""
    tester = WorkflowTester()

    run = tester.run(
        "email-campaign",
        {"segment": "vip", "template": "news", "batch_size": 5, "pause_seconds": 60},
    )

    assert run.output == {"sent": 12}
    assert run.elapsed == timedelta(minutes=2)
    assert run.advances == 3  # started once, woken by each of the two sleeps
    assert run.step_names()[1] == "send-vip-1"


def test_each_send_has_its_own_idempotency_key() -> None:
    """Every recipient's send gets a distinct key to hand to the mail service."""
    tester = WorkflowTester()
    keys: list[str] = []

    def send(recipient: dict[str, str], template: str) -> dict[str, str]:
        keys.append(idempotency_key())
        return {"to": recipient["email"]}

    tester.fake(loop.send_campaign_email, send)
    tester.run(loop.email_campaign, {"segment": "trial", "template": "spring"})

    assert len(keys) == 12
    assert len(set(keys)) == 12
    assert keys[0].endswith(":send-trial-1")
