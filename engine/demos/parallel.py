# engine.core.step(...) is annotated "-> Any", which strict mypy calls an untyped decorator.
"""Parallel workflows: independent steps run at the same time, then their results are merged."""

from typing import Any

from engine.core import parallel, step, workflow


@step(name="verify-email")
def verify_email(email: str) -> dict[str, Any]:
    """Check an email address (simulated: its shape only)."""
    local, _, domain = email.partition("@")
    return {"email": email, "valid": bool(local) and "." in domain}


@step(name="lookup-company")
def lookup_company(domain: str) -> dict[str, Any]:
    """Look the company up by its web domain (simulated)."""
    return {"domain": domain, "name": domain.split(".", 1)[0].title()}


@step(name="find-social")
def find_social_profiles(name: str) -> list[dict[str, str]]:
    """Find the person's social profiles (simulated)."""
    handle = "".join(name.lower().split())
    return [{"network": "linkedin", "url": f"https://linkedin.example/in/{handle}"}]


@step(name="merge-data")
def merge_data(
    lead: dict[str, Any],
    email: dict[str, Any],
    company: dict[str, Any],
    social: list[dict[str, str]],
) -> dict[str, Any]:
    """Combine the lead with what the three look-ups found."""
    return {**lead, "emailValid": email["valid"], "company": company, "socialProfiles": social}


@workflow("enrich-lead", tags=("demo", "parallel"))
def enrich_lead(lead: dict[str, Any]) -> dict[str, Any]:
    """Enrich a lead: verify email, look up company, find profiles in parallel, then merge."""
    email, company, social = parallel(
        [
            verify_email.call(lead["email"]),
            lookup_company.call(lead["domain"]),
            find_social_profiles.call(lead["name"]),
        ],
        name="enrich",
    )
    merged: dict[str, Any] = merge_data(lead, email, company, social)
    return merged
