"""Fixed histogram buckets for durations, and quantiles estimated from bucket counts.

Rollups keep one counter per bucket, so any period's p50/p95/p99 is a sum of counters plus the
interpolation below (as Prometheus' histogram_quantile does), never a scan of runs.
"""

import bisect
import math
from collections.abc import Sequence

BOUNDS_SECONDS: tuple[float, ...] = (
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
    60.0,
    300.0,
    3600.0,
    86400.0,
)
"""Upper bounds (inclusive) of the finite buckets; one more bucket holds everything longer."""

BUCKETS = len(BOUNDS_SECONDS) + 1


def bucket_of(seconds: float) -> int:
    """The bucket a duration falls in: the first whose upper bound is at least the duration."""
    return bisect.bisect_left(BOUNDS_SECONDS, max(0.0, seconds))


def one_hot(seconds: float | None) -> list[int]:
    """Bucket counts for one observation (all zero when there is none)."""
    counts = [0] * BUCKETS
    if seconds is not None:
        counts[bucket_of(seconds)] = 1
    return counts


def quantile(q: float, counts: Sequence[int]) -> float | None:
    """Estimate the q-quantile (0..1) from bucket counts by linear interpolation inside the
    bucket it falls in; the open last bucket answers its lower bound. None without data."""
    total = sum(counts)
    if total == 0:
        return None
    rank = q * total
    seen = 0
    for index, count in enumerate(counts):
        if count and seen + count >= rank:
            if index >= len(BOUNDS_SECONDS):
                return BOUNDS_SECONDS[-1]
            lower = BOUNDS_SECONDS[index - 1] if index else 0.0
            upper = BOUNDS_SECONDS[index]
            return lower + (upper - lower) * max(0.0, rank - seen) / count
        seen += count
    return BOUNDS_SECONDS[-1]


def cumulative(counts: Sequence[int]) -> list[tuple[float, int]]:
    """(upper bound, observations at or under it) pairs, +Inf last, as Prometheus wants."""
    pairs = []
    running = 0
    for index, count in enumerate(counts):
        running += count
        bound = BOUNDS_SECONDS[index] if index < len(BOUNDS_SECONDS) else math.inf
        pairs.append((bound, running))
    return pairs
