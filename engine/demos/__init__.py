"""Demo workflows: the pattern catalogue of the seed, written with the Python authoring API.

Importing this package registers every demo (list "engine.demos" in STEPWISE_WORKFLOW_MODULES)
and the `demo.*` Python actions that the canvas demos (designer/demo_graphs/) call.
docs/authoring.md explains the API they use.
"""

from engine.demos import (
    bulkhead,
    caching,
    circuit_breaker,
    compensation,
    conditional,
    debouncing,
    document_review,
    error_handling,
    expense_approval,
    graph_actions,
    long_running,
    loop,
    orchestration,
    order_machine,
    parallel,
    parallel_limited,
    progress,
    retries,
    scheduled,
    sequential,
    state_machine,
    sub_workflows,
    templates,
    timeouts,
    variables,
)

__all__ = [
    "bulkhead",
    "caching",
    "circuit_breaker",
    "compensation",
    "conditional",
    "debouncing",
    "document_review",
    "error_handling",
    "expense_approval",
    "graph_actions",
    "long_running",
    "loop",
    "orchestration",
    "order_machine",
    "parallel",
    "parallel_limited",
    "progress",
    "retries",
    "scheduled",
    "sequential",
    "state_machine",
    "sub_workflows",
    "templates",
    "timeouts",
    "variables",
]
