# engine.core.step(...) is annotated "-> Any", which strict mypy calls an untyped decorator.
"""The bulkhead: a fragile partner API takes at most 3 calls at once, whatever calls it.

The seed's Bulkhead class counts calls in one process; here the count is shared by every
worker and every run (engine.resilience.bulkheads). A call beyond the limit waits durably
for a slot, holding no worker, and starts when one frees. The canvas demo
`canvas-partner-bulkhead` sets the same limit on its action node.
"""

from typing import Any

from engine.core import Bulkhead, action, parallel, step, workflow

PARTNER_API = Bulkhead("partner-api", max_concurrent=3)


def _ask_partner(sku: str) -> dict[str, Any]:
    return {"sku": sku, "price": 10 + len(sku), "in_stock": not sku.endswith("0")}


@action("demo.partner-lookup")
def partner_lookup(sku: str) -> dict[str, Any]:
    """Ask the partner for a product's price and stock (simulated)."""
    return _ask_partner(sku)


@step(name="partner-call", bulkhead=PARTNER_API)
def partner_call(sku: str) -> dict[str, Any]:
    """The same look-up, as a step that holds a slot of the partner-api bulkhead."""
    return _ask_partner(sku)


@workflow("partner-bulkhead", tags=("demo", "bulkhead"))
def partner_bulkhead(data: dict[str, Any]) -> dict[str, Any]:
    """Look up every product at once: all start together, at most 3 reach the partner at once."""
    calls = [partner_call.named(f"lookup-{sku}").call(sku) for sku in data["skus"]]
    found: list[dict[str, Any]] = parallel(calls, name="look-up-all")
    return {"products": found, "in_stock": sum(1 for item in found if item["in_stock"])}
