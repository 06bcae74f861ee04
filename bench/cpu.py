"""Where a burst's CPU went, by role: read from /proc (Linux) before and after it.

On a machine of two cores a burst is bound by CPU, not by commits; this says whose CPU it was:
the worker's processes running the engine, Celery's consumer handing them messages, the
PostgreSQL backends doing their statements, the bench itself starting and watching work.
"""

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

PROC = Path("/proc")


@dataclass(frozen=True)
class Process:
    parent: int
    command: str
    seconds: float
    """User and system CPU time so far."""


def processes() -> dict[int, Process]:
    """Every process's CPU time so far; {} where /proc is not there to read."""
    if not PROC.is_dir():
        return {}
    ticks = os.sysconf("SC_CLK_TCK")
    found = {}
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue  # ended meanwhile
        # The command name in parentheses may hold spaces: the fields after it are fixed.
        fields = stat.rsplit(")", 1)[1].split()
        found[int(entry.name)] = Process(
            parent=int(fields[1]),
            command=command.strip(),
            seconds=(int(fields[11]) + int(fields[12])) / ticks,
        )
    return found


Role = Callable[[int, Process], str | None]
"""A process's role in the burst, or None to count it with the rest of the machine."""


@dataclass
class CpuSplit:
    seconds: dict[str, float] = field(default_factory=dict)
    wall: float = 0.0

    @property
    def available(self) -> bool:
        return bool(self.seconds)

    def total(self) -> float:
        return sum(self.seconds.values())


@contextmanager
def cpu_split(role: Role, clock: Callable[[], float]) -> Iterator[CpuSplit]:
    """CPU seconds spent inside the block by each role (processes that started inside it
    count from zero), and the block's wall time."""
    split = CpuSplit()
    before, began = processes(), clock()
    yield split
    after, split.wall = processes(), clock() - began
    for pid, process in after.items():
        spent = process.seconds - (before[pid].seconds if pid in before else 0.0)
        if spent <= 0:
            continue
        name = role(pid, process) or "the rest of the machine"
        split.seconds[name] = split.seconds.get(name, 0.0) + spent
