"""One line at the top of the run page that says what happened, or what the run waits for."""

from datetime import datetime

from monitoring.durations import format_duration
from monitoring.timeline import Row, Timeline

# Retries fewer than this on a finished run are routine; more are worth the headline.
NOTABLE_RETRIES = 2


def verdict(
    *,
    status: str,
    created_at: datetime,
    started_at: datetime | None,
    finished_at: datetime | None,
    now: datetime,
    run_error: str,
    timeline: Timeline,
) -> str:
    """ "completed in 3.2 s", "waiting 2 h for approval by vp", "failed at charge: …"."""
    start = started_at or created_at
    took = format_duration((finished_at or now) - start)
    rows = [row for row in timeline.rows if not row.superseded]
    retried = _most_retried(rows)
    if status == "completed":
        line = f"completed in {took}"
        if retried is not None and len(retried.attempts) > NOTABLE_RETRIES:
            line += f" (step {retried.name} needed {len(retried.attempts)} attempts)"
        return line
    if status == "failed":
        failed = next((row for row in reversed(rows) if row.status == "failed"), None)
        if failed is not None:
            message = failed.attempts[-1].error_message or run_error
            tries = f" after {len(failed.attempts)} attempts" if len(failed.attempts) > 1 else ""
            return (
                f"failed at {failed.name}{tries}: {message}"
                if message
                else f"failed at {failed.name}"
            )
        return f"failed: {run_error}" if run_error else "failed"
    if status in ("cancelled", "timed_out"):
        word = "cancelled" if status == "cancelled" else "timed out"
        return f"{word} after {took}" + (f": {run_error}" if run_error else "")
    if status == "scheduled":
        return "scheduled, not started yet"
    if status == "pending" and started_at is None:
        return f"queued for {format_duration(now - created_at)}, waiting for a worker"
    backing_off = next(
        (row for row in reversed(rows) if row.status == "retrying" and row.attempts), None
    )
    if backing_off is not None:
        attempts = len(backing_off.attempts)
        times = "once" if attempts == 1 else f"{attempts} times"
        message = backing_off.attempts[-1].error_message
        return f"step {backing_off.name} retried {times}" + (f": {message}" if message else "")
    open_wait = _open_wait(rows)
    if open_wait is not None:
        row, since = open_wait
        label = row.attempts[-1].segments[-1].label or row.name
        return f"waiting {format_duration(now - since)} for {label}"
    if status == "paused":
        return f"paused after {took}"
    running = next((row for row in reversed(rows) if _is_open(row)), None)
    if running is not None:
        since = running.attempts[-1].segments[-1].start
        return f"running {running.name} for {format_duration(now - since)}"
    return f"{status} for {took}"


def _is_open(row: Row) -> bool:
    return bool(row.attempts) and row.attempts[-1].segments[-1].open


def _open_wait(rows: list[Row]) -> tuple[Row, datetime] | None:
    # The innermost wait explains most: a parallel group waits for its branches, a branch for
    # its person; so prefer a branch's wait to the group's.
    found = None
    for row in rows:
        last = row.attempts[-1].segments[-1] if row.attempts else None
        is_wait = last is not None and last.open and last.kind == "waiting"
        if last is not None and is_wait and (found is None or row.kind != "parallel"):
            found = (row, last.start)
    return found


def _most_retried(rows: list[Row]) -> Row | None:
    retried = [row for row in rows if len(row.attempts) > 1]
    return max(retried, key=lambda row: len(row.attempts)) if retried else None
