"""Lead enrichment runs three look-ups in parallel and merges what they found."""

from engine.core.testing import WorkflowTester
from engine.demos import parallel

LEAD = {"name": "Ada Lovelace", "email": "ada@acme.example", "domain": "acme.example"}


def test_the_three_parallel_results_are_merged_into_the_lead() -> None:
    """The merged lead carries the email verdict, the company and the social profiles."""
    tester = WorkflowTester()
    tester.fake(parallel.verify_email, returns={"valid": False})
    tester.fake(parallel.lookup_company, returns={"name": "Acme Corp"})
    tester.fake(parallel.find_social_profiles, returns=[{"network": "mastodon"}])

    run = tester.run(parallel.enrich_lead, LEAD)

    assert run.status == "completed"
    assert run.output == {
        **LEAD,
        "emailValid": False,
        "company": {"name": "Acme Corp"},
        "socialProfiles": [{"network": "mastodon"}],
    }


def test_the_look_ups_run_once_each_as_one_parallel_group() -> None:
    """The three look-ups form one journaled parallel group followed by the merge step."""
    tester = WorkflowTester()

    run = tester.run("enrich-lead", LEAD)

    assert run.steps == [("enrich", "completed", 1), ("merge-data", "completed", 1)]
    for look_up in (parallel.verify_email, parallel.lookup_company, parallel.find_social_profiles):
        assert tester.calls(look_up) == 1
    assert run.output["emailValid"] is True
    assert run.output["company"]["name"] == "Acme"
