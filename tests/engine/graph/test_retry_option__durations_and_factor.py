"""An action node's `retry` takes its waits as durations (seconds or text such as 30s, 5m) and a
back-off factor; the compiled node's policy waits accordingly, and validation names the field
of a wait that is not a duration, a factor out of range, or a longest wait shorter than the
first."""

from engine.graph.program import compile_node
from engine.graph.validate import validate_graph
from tests.engine.graph.graphs import graph

ACTION = {"action": "demo.charge-card"}


def problems(retry: dict[str, object]) -> list[tuple[str | None, str]]:
    document = graph(
        [("start", "trigger.manual"), ("charge", "action.python", {**ACTION, "retry": retry})],
        ["start>charge"],
    )
    return [(p.field, p.message) for p in validate_graph(document) if p.node == "charge"]


def test_durations_and_the_factor_shape_the_waits() -> None:
    retry = {"max_attempts": 4, "initial_delay": "30s", "multiplier": 3, "max_delay": "2m"}
    assert problems({**retry, "jitter": 0}) == []
    policy = compile_node(
        "charge", "action.python", {**ACTION, "retry": {**retry, "jitter": 0}}
    ).retry
    assert (policy.max_attempts, policy.initial_delay, policy.max_delay) == (4, 30.0, 120.0)
    assert [policy.delay(attempt) for attempt in (1, 2, 3)] == [30.0, 90.0, 120.0]
    # Graphs saved before durations were allowed (plain seconds) read as they did.
    older = compile_node("charge", "action.python", {**ACTION, "retry": {"initial_delay": 2}})
    assert (older.retry.initial_delay, older.retry.multiplier) == (2.0, 2.0)


def test_validation_names_the_retry_field_that_is_wrong() -> None:
    assert [field for field, _ in problems({"initial_delay": "soon"})] == [
        "config.retry.initial_delay"
    ]
    assert [field for field, _ in problems({"multiplier": 0.5})] == ["config.retry.multiplier"]
    assert problems({"initial_delay": "1m", "max_delay": "30s"}) == [
        ("config.retry.max_delay", "must not be shorter than the first wait")
    ]
