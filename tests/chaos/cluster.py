"""A private PostgreSQL and Redis that a chaos test may restart without disturbing anyone else.

The shared servers on the standard ports serve other tests at the same time, so the chaos test
starts its own: `initdb` into a temporary folder (as the `postgres` OS user when running as
root, which PostgreSQL refuses to run as) and `redis-server` without persistence, each on a free
port. A restart keeps the port, so clients that reconnect find the same address.
"""

import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from tests.processes import free_port


def _listening(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
        return True
    return False


def _wait_for_port(port: int, up: bool, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _listening(port) == up:
            return
        time.sleep(0.05)
    raise AssertionError(f"{what} did not {'start' if up else 'stop'} on port {port}")


def postgres_bindir() -> Path:
    """The server binaries: `pg_config --bindir` when it has them, else the newest Debian one."""
    pg_config = shutil.which("pg_config")
    if pg_config:
        found = subprocess.run(
            [pg_config, "--bindir"], capture_output=True, text=True, check=False
        ).stdout.strip()
        if found and (Path(found) / "initdb").exists():
            return Path(found)
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda path: int(Path(path).parent.parent.name),
    )
    if not candidates:
        raise AssertionError("no PostgreSQL server binaries (apt-get install postgresql)")
    return Path(candidates[-1]).parent


class PrivatePostgres:
    """A throw-away PostgreSQL cluster on 127.0.0.1 and a free port, trusting local logins."""

    def __init__(self) -> None:
        self.bindir = postgres_bindir()
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="stepwise-chaos-pg-"))
        self.data = self.folder / "data"
        self.log_path = self.folder / "postgres.log"
        self.restarts = 0
        # PostgreSQL refuses to run as root: hand the folder to its own user.
        self._as: list[str] = []
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            os.chown(self.folder, owner.pw_uid, owner.pw_gid)
            self._as = ["runuser", "-u", "postgres", "--"]

    def url(self, database: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, tool: str, *args: str) -> None:
        done = subprocess.run(
            [*self._as, str(self.bindir / tool), *args],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise AssertionError(f"{tool} {' '.join(args)} failed:\n{done.stdout}{done.stderr}")

    def start(self) -> None:
        if not self.data.exists():
            self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8")
        # Crash safety is PostgreSQL's own, tested elsewhere; fsync off only spares the disk.
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.folder} "
            "-c fsync=off -c full_page_writes=off -c max_connections=200"
        )
        self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.log_path), "-o", options, "-w", "start"
        )
        _wait_for_port(self.port, up=True, what="PostgreSQL")

    def stop(self, mode: str = "fast") -> None:
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def restart(self, downtime: float) -> None:
        """Stop as a crash would (every connection cut, no checkpoint), stay down, start again."""
        self.stop(mode="immediate")
        time.sleep(downtime)
        self.start()
        self.restarts += 1

    def create_database(self, name: str) -> None:
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name)

    def copy_database(self, source_url: str, name: str) -> None:
        """Create database `name` as a copy of another server's (already migrated) database:
        a second or two, where running the migrations takes a minute on a busy machine."""
        self.create_database(name)
        dump = subprocess.run(
            [str(self.bindir / "pg_dump"), "--no-owner", "--no-privileges", source_url],
            capture_output=True,
            check=False,
        )
        if dump.returncode != 0:
            raise AssertionError(f"pg_dump of the source failed: {dump.stderr.decode()}")
        load = subprocess.run(
            [str(self.bindir / "psql"), "-q", "-v", "ON_ERROR_STOP=1", self.url(name)],
            input=dump.stdout,
            capture_output=True,
            check=False,
        )
        if load.returncode != 0:
            raise AssertionError(f"loading the copy failed: {load.stderr.decode()}")

    def remove(self) -> None:
        with contextlib.suppress(AssertionError):
            self.stop(mode="immediate")
        shutil.rmtree(self.folder, ignore_errors=True)


class PrivateRedis:
    """A `redis-server` on 127.0.0.1 and a free port that keeps nothing on disk."""

    def __init__(self) -> None:
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="stepwise-chaos-redis-"))
        self.process: subprocess.Popen[bytes] | None = None
        self.restarts = 0

    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        server = shutil.which("redis-server")
        if server is None:
            raise AssertionError("redis-server is not installed (apt-get install redis-server)")
        log = open(self.folder / "redis.log", "ab")  # noqa: SIM115 - the server writes to it
        self.process = subprocess.Popen(
            [
                server,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.folder),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        _wait_for_port(self.port, up=True, what="Redis")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            # SIGKILL: like a crash, whatever Redis held (queued messages) is gone.
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)
        _wait_for_port(self.port, up=False, what="Redis")

    def restart(self, downtime: float) -> None:
        self.stop()
        time.sleep(downtime)
        self.start()
        self.restarts += 1

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)
