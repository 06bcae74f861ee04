# engine.core.step(...) is annotated "-> Any", which strict mypy calls an untyped decorator.
"""Workflow templates: a factory declares one workflow per kind of document."""

from datetime import timedelta
from typing import Any

from engine.core import WaitTimeout, WorkflowDefinition, step, wait_for, workflow

APPROVAL_TIMEOUT = timedelta(hours=24)

APPROVERS = {"Invoice": ["finance"], "Contract": ["legal", "finance"]}
"""Who approves what (simulated directory); other kinds go to the managers."""


# Steps must live at module level (workers find them by module and name), so a template's
# steps take the kind of document as an argument instead of being declared per kind.
@step(name="request-approval")
def request_approval(entity: str, item: dict[str, Any]) -> dict[str, Any]:
    """Ask the approvers of this kind of document to decide (simulated)."""
    return {
        "entity": entity,
        "itemId": item["id"],
        "approvers": APPROVERS.get(entity, ["managers"]),
    }


@step(name="approve")
def approve(entity: str, item: dict[str, Any]) -> dict[str, Any]:
    """Announce the approval (simulated)."""
    return {"event": f"{entity}.approved", "itemId": item["id"]}


@step(name="reject")
def reject(entity: str, item: dict[str, Any], reason: str) -> dict[str, Any]:
    """Announce the rejection (simulated)."""
    return {"event": f"{entity}.rejected", "itemId": item["id"], "reason": reason}


def create_approval_workflow(entity: str) -> WorkflowDefinition:
    """Declare and register `<entity>-approval`, e.g. `invoice-approval` for "Invoice"."""
    noun = entity.lower()

    @workflow(
        f"{noun}-approval",
        title=f"{entity} approval: request it, wait up to 24 hours for the decision, act on it",
        tags=("demo", "templates"),
    )
    def approval(item: dict[str, Any]) -> dict[str, Any]:
        """Request approval of an item, wait up to 24 hours for the decision, act on it."""
        request_approval(entity, item)
        try:
            decision = wait_for(
                "Approval.decided",
                match={"entity": entity, "itemId": item["id"]},
                timeout=APPROVAL_TIMEOUT,
            )
        except WaitTimeout:
            reject(entity, item, "no decision within 24 hours")
            return {"approved": False, "reason": "timeout"}
        if decision["payload"].get("approved"):
            approve(entity, item)
            return {"approved": True, "by": decision["payload"].get("approver")}
        reason = decision["payload"].get("comment") or "rejected"
        reject(entity, item, reason)
        return {"approved": False, "reason": reason}

    return approval


invoice_approval = create_approval_workflow("Invoice")
contract_approval = create_approval_workflow("Contract")
