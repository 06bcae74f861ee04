"""Importing engine.demos registers every demo workflow, titled and tagged."""

import engine.demos
from engine.core import all_workflows, get_workflow

EXPECTED = {
    "abandoned-cart",
    "api-call",
    "contract-approval",
    "contract-signature",
    "customer-onboarding",
    "daily-report",
    "document-review",
    "ecommerce-order",
    "email-campaign",
    "enrich-data",
    "enrich-lead",
    "expense-approval",
    "expensive-operation",
    "fulfill-order",
    "invoice-approval",
    "lead-intake",
    "long-running",
    "measured-operation",
    "order-lifecycle",
    "order-payment",
    "order-processing",
    "parallel-processing",
    "partner-bulkhead",
    "partner-sync",
    "process-payment",
    "release-inventory",
    "reserve-inventory",
    "resilient-operation",
    "resilient-payment",
    "run-at",
    "search-index-update",
    "send-confirmation",
    "ship-order",
    "supplier-quote",
    "timed-operation",
    "tracked-import",
    "verify-email",
}


def test_importing_the_package_registers_every_demo() -> None:
    """Importing engine.demos registers every demo slug, and only those are tagged demo."""
    assert engine.demos.__all__
    demos = {definition.slug for definition in all_workflows() if "demo" in definition.tags}
    assert demos == EXPECTED


def test_every_demo_has_a_one_line_title_and_a_section_tag() -> None:
    """Each demo has a one-line title, the tags ("demo", section) and code from engine.demos."""
    for slug in EXPECTED:
        definition = get_workflow(slug)
        assert definition is not None
        assert definition.title and "\n" not in definition.title, slug
        assert definition.title != slug, slug
        assert len(definition.tags) == 2 and definition.tags[0] == "demo", slug
        assert definition.fn.__module__.startswith("engine.demos."), slug
        assert not slug.startswith("test-")
