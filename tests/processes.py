"""Helpers to run Stepwise's real processes (worker, Daphne, the embedded server) in tests."""

import contextlib
import itertools
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def database_url_for(database_url: str, database_name: str) -> str:
    """The same server and credentials, another database (the test database)."""
    parts = urlsplit(database_url)
    return urlunsplit(parts._replace(path="/" + database_name))


def run_python(
    args: list[str], env: dict[str, str], timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """This interpreter with `args`, in the project's root, to its end; its output captured."""
    return subprocess.run(
        [sys.executable, *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def process_environment(**overrides: str | None) -> dict[str, str]:
    """This process's environment for a child running production settings; None removes a name."""
    env = dict(os.environ)
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    env["DJANGO_SETTINGS_MODULE"] = "config.settings"
    env["PYTHONUNBUFFERED"] = "1"
    for name, value in overrides.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


@dataclass(eq=False)
class RunningProcess:
    name: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log().splitlines()[-lines:])

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> int:
        """Signal the process, wait, then kill its whole group: no child outlives a test."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        if self.process.poll() is None:
            self.process.wait(5)
        _running.discard(self)
        return self.process.returncode


_running: set[RunningProcess] = set()


def stop_all_processes() -> None:
    """Kill whatever a test left running (for the end of the session)."""
    for running in list(_running):
        running.stop(signal.SIGKILL, timeout=5)


def workers_on(queue: str) -> list[str]:
    """The names of the Celery workers this test process started on `queue` that still run."""
    names = []
    for running in list(_running):
        args = [str(arg) for arg in running.process.args]
        if running.process.poll() is not None or "worker" not in args:
            continue
        options = dict(itertools.pairwise(args))
        if options.get("--queues") == queue and "--hostname" in options:
            names.append(options["--hostname"])
    return names


def worker_args(
    queue: str,
    *,
    hostname: str | None = None,
    concurrency: int = 2,
    pool: str = "prefork",
    loglevel: str = "INFO",
    heartbeat: bool = True,
) -> list[str]:
    """A `celery worker` on one queue, as the tests start it: no mingle or gossip, which only
    slow a start and chatter between the workers of different tests."""
    args = ["-m", "celery", "-A", "config", "worker", f"--pool={pool}"]
    args += [f"--concurrency={concurrency}", f"--loglevel={loglevel}", "--queues", queue]
    args += ["--without-mingle", "--without-gossip"]
    # Always a name of its own: others_stop_consuming (tests.queues) addresses the workers
    # this session started by name, and Celery's default name is the same for all of them.
    args += ["--hostname", hostname or f"test-{uuid.uuid4().hex[:8]}@localhost"]
    if not heartbeat:
        args.append("--without-heartbeat")
    return args


def daphne_args(port: int) -> list[str]:
    """Daphne serving Stepwise (HTTP and WebSockets) on a loopback port."""
    return ["-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "config.asgi:application"]


def start_process(name: str, args: list[str], env: dict[str, str], log_dir: Path) -> RunningProcess:
    log_path = log_dir / f"{name}.log"
    log_file = open(log_path, "wb")  # noqa: SIM115 - the child writes to it until it ends
    process = subprocess.Popen(
        [sys.executable, *args],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=log_file,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    running = RunningProcess(name, process, log_path)
    _running.add(running)
    return running


def wait_until(
    condition: Callable[[], bool],
    timeout: float,
    what: str,
    process: RunningProcess | None = None,
    interval: float = 0.1,
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.process.poll() is not None:
            raise AssertionError(
                f"{process.name} exited with {process.process.returncode} while waiting for "
                f"{what}:\n{process.log_tail()}"
            )
        if condition():
            return
        time.sleep(interval)
    tail = f"\n{process.name} log:\n{process.log_tail()}" if process else ""
    raise AssertionError(f"timed out after {timeout}s waiting for {what}{tail}")


def health_answers(base_url: str) -> Callable[[], bool]:
    """A condition for wait_until: the server at base_url answers /health (200, or 503 when a
    dependency is down: it is up all the same)."""

    def answers() -> bool:
        try:
            return httpx.get(f"{base_url}/health", timeout=5).status_code in (200, 503)
        except httpx.HTTPError:
            return False

    return answers
