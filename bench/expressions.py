"""Evaluations per second of a typical condition: a reused Expression against compiling each time,
and, on a large scope where the cost budget sizes every value, evaluate() against cel alone.

Prints figures measured in the same run; never fails a build.

    .venv/bin/python bench/expressions.py [--number 20000]
"""

import argparse
import datetime as dt
import sys
import timeit
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.core import expressions
from engine.core.expressions import Expression, compile_expression

CONDITION = "input.amount > 1000 && input.country in ['DE', 'FR'] && input.items.all(i, i.qty > 0)"
SCOPE = {
    "input": {
        "amount": 1500,
        "country": "DE",
        "customer": {"id": "c-17", "name": "Alice Smith", "tags": ["vip", "eu"]},
        "items": [{"sku": f"S-{n}", "qty": n + 1, "price": 9.5} for n in range(5)],
    },
    "vars": {"approved": True},
    "nodes": {f"step-{n}": {"output": {"values": list(range(20))}} for n in range(10)},
    "now": dt.datetime.now(dt.UTC),
}
# Large enough that the quick bound fails and every value is sized before cel runs.
LARGE = "input.items.all(i, i.qty > 0 && i.sku != '')"
LARGE_SCOPE = {"input": {"items": [{"sku": f"S-{n}", "qty": n + 1} for n in range(2_000)]}}


def uncached(source: str) -> Expression:
    """Compile without the LRU cache, as if every evaluation met a new source."""
    compiled = expressions._compile.__wrapped__(source)
    return Expression(source, compiled.variables, None, None, compiled)


def rate(function: Callable[[], object], number: int) -> float:
    best = min(timeit.repeat(function, number=number, repeat=5))
    return number / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--number", type=int, default=20_000)
    args = parser.parse_args()

    reused = compile_expression(CONDITION)
    assert reused.evaluate(SCOPE) is True
    figures = {
        "reused Expression": rate(lambda: reused.evaluate(SCOPE), args.number),
        "compile_expression each time (LRU hit)": rate(
            lambda: compile_expression(CONDITION).evaluate(SCOPE), args.number
        ),
        "compile each time (no cache)": rate(
            lambda: uncached(CONDITION).evaluate(SCOPE), args.number
        ),
    }
    print(f"condition: {CONDITION}")
    for label, per_second in figures.items():
        print(f"  {label:<40} {per_second:>10,.0f} evaluations/s  {1e6 / per_second:6.1f} µs")
    ratio = figures["reused Expression"] / figures["compile each time (no cache)"]
    print(f"  reused / compile each time: {ratio:.2f}x")

    large = compile_expression(LARGE)
    program = large._compiled.program
    number = max(args.number // 200, 10)
    budgeted = rate(lambda: large.evaluate(LARGE_SCOPE), number)
    bare = rate(lambda: program.execute(LARGE_SCOPE), number)
    print(f"large scope: {LARGE} over 2,000 records")
    print(
        f"  {'Expression.evaluate':<40} {budgeted:>10,.0f} evaluations/s  {1e3 / budgeted:6.2f} ms"
    )
    print(f"  {'cel alone (no checks)':<40} {bare:>10,.0f} evaluations/s  {1e3 / bare:6.2f} ms")


if __name__ == "__main__":
    main()
