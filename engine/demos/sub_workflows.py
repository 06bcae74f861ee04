# engine.core.step(...) is annotated "-> Any", which strict mypy calls an untyped decorator.
"""Sub-workflows: a workflow runs others as children and uses their results."""

from typing import Any

from engine.core import ChildWorkflowFailed, run_child, step, workflow

UNREACHABLE_DOMAINS = frozenset({"invalid.example"})
"""Domains whose mail server the simulation cannot reach."""


@step(name="check-syntax")
def check_syntax(email: str) -> dict[str, Any]:
    """Check the address's shape."""
    local, _, domain = email.partition("@")
    return {"ok": bool(local) and "." in domain, "domain": domain}


@step(name="check-mail-server")
def check_mail_server(domain: str) -> dict[str, Any]:
    """Look up the domain's mail server (simulated)."""
    if domain in UNREACHABLE_DOMAINS:
        raise ConnectionError(f"no answer from the mail server of {domain}")
    return {"domain": domain, "mx": f"mx.{domain}"}


@workflow("verify-email", tags=("demo", "sub-workflows"))
def verify_email_workflow(email: str) -> dict[str, Any]:
    """Verify an email address: its shape, then its domain's mail server."""
    syntax = check_syntax(email)
    if not syntax["ok"]:
        return {"email": email, "valid": False, "reason": "syntax"}
    server = check_mail_server(syntax["domain"])
    return {"email": email, "valid": True, "mx": server["mx"]}


@step(name="lookup-company")
def lookup_company(domain: str) -> dict[str, Any]:
    """Look the company up (simulated)."""
    return {"domain": domain, "name": domain.split(".", 1)[0].title()}


@step(name="score-lead")
def score_lead(lead: dict[str, Any], company: dict[str, Any]) -> int:
    """Score the lead (simulated: a known company is worth more)."""
    return 50 + (25 if company["name"] else 0) + (25 if lead.get("title") else 0)


@workflow("enrich-data", tags=("demo", "sub-workflows"))
def enrich_data_workflow(lead: dict[str, Any]) -> dict[str, Any]:
    """Enrich a lead with its company and a score."""
    company = lookup_company(lead["domain"])
    return {**lead, "company": company, "score": score_lead(lead, company)}


@workflow("lead-intake", tags=("demo", "sub-workflows"))
def lead_intake(lead: dict[str, Any]) -> dict[str, Any]:
    """Take in a lead: verify its email and enrich it, each in a child workflow."""
    try:
        # Calling a workflow from a workflow runs it as a child and waits for its output.
        verification = verify_email_workflow(lead["email"])
    except ChildWorkflowFailed as failure:
        verification = {"email": lead["email"], "valid": None, "reason": failure.status}
    enriched: dict[str, Any] = run_child(enrich_data_workflow, lead)  # the same, spelled out
    return {"lead": enriched, "email": verification}
