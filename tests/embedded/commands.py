"""The embedded default's environment, and its `manage.py` commands run as `make run` runs them."""

from pathlib import Path

from tests.processes import process_environment, run_python


def embedded_environment(var_dir: Path) -> dict[str, str]:
    """No PostgreSQL, no Redis: SQLite and everything in process, kept in `var_dir`."""
    return process_environment(
        DATABASE_URL=None,
        REDIS_URL=None,
        SECRET_KEY=None,
        STEPWISE_VAR_DIR=str(var_dir),
        STEPWISE_QUEUE=None,
        STEPWISE_CHANNEL_PREFIX=None,
    )


def manage(env: dict[str, str], *args: str) -> str:
    """Run `manage.py` with `args`; its output, once it has succeeded."""
    done = run_python(["manage.py", *args], env, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout
