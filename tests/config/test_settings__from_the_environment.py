"""Settings come from the environment: the embedded default without URLs, services with them."""

import json
import subprocess

import pytest

from tests.processes import process_environment, run_python

SHOW_SETTINGS = """
import json, django
django.setup()
from django.conf import settings
print(json.dumps({
    "engine": settings.DATABASES["default"]["ENGINE"],
    "options": settings.DATABASES["default"].get("OPTIONS", {}),
    "broker": settings.CELERY_BROKER_URL,
    "layer": settings.CHANNEL_LAYERS["default"]["BACKEND"],
    "cache": settings.CACHES["default"]["BACKEND"],
    "debug": settings.DEBUG,
    "hosts": settings.ALLOWED_HOSTS,
    "secret": settings.SECRET_KEY,
}))
"""


def settings_with(tmp_path, **env: str | None) -> subprocess.CompletedProcess[str]:
    environment = process_environment(STEPWISE_VAR_DIR=str(tmp_path), **env)
    return run_python(["-c", SHOW_SETTINGS], environment)


def test_without_urls_it_is_the_embedded_default(tmp_path) -> None:
    shown = settings_with(tmp_path, DATABASE_URL=None, REDIS_URL=None, SECRET_KEY=None)
    assert shown.returncode == 0, shown.stderr
    values = json.loads(shown.stdout)
    assert values["engine"] == "django.db.backends.sqlite3"
    assert "journal_mode=WAL" in values["options"]["init_command"]
    assert values["options"]["transaction_mode"] == "IMMEDIATE"
    assert values["broker"].startswith("memory://")
    assert values["layer"] == "channels.layers.InMemoryChannelLayer"
    assert values["cache"].endswith("LocMemCache")
    assert values["debug"] is False
    # The generated key is kept, so a restart keeps everyone logged in.
    again = json.loads(
        settings_with(tmp_path, DATABASE_URL=None, REDIS_URL=None, SECRET_KEY=None).stdout
    )
    assert again["secret"] == values["secret"]
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_urls_switch_to_postgresql_and_redis(tmp_path) -> None:
    shown = settings_with(
        tmp_path,
        DATABASE_URL="postgres://u:p@db.internal:5432/stepwise",
        REDIS_URL="redis://cache.internal:6379/2",
        SECRET_KEY="s" * 50,
        DEBUG="true",
        ALLOWED_HOSTS="stepwise.example.com, www.example.com",
    )
    assert shown.returncode == 0, shown.stderr
    values = json.loads(shown.stdout)
    assert values["engine"] == "django.db.backends.postgresql"
    assert values["broker"] == "redis://cache.internal:6379/2"
    assert values["layer"] == "channels_redis.core.RedisChannelLayer"
    assert values["cache"] == "django.core.cache.backends.redis.RedisCache"
    assert values["debug"] is True
    assert values["hosts"] == ["stepwise.example.com", "www.example.com"]
    assert values["secret"] == "s" * 50


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("DEBUG", "maybe", "DEBUG must be one of"),
        ("DATABASE_URL", "nonsense://x", "DATABASE_URL is not a database URL"),
        ("STEPWISE_HEARTBEAT_SECONDS", "often", "STEPWISE_HEARTBEAT_SECONDS must be a number"),
        (
            "STEPWISE_EVENT_CHAIN_LIMIT",
            "2.5",
            "STEPWISE_EVENT_CHAIN_LIMIT must be a whole number",
        ),
        ("STEPWISE_LIVE_UPDATES", "sometimes", "STEPWISE_LIVE_UPDATES must be one of"),
    ],
)
def test_a_bad_value_fails_at_start_naming_the_variable(tmp_path, name, value, message) -> None:
    shown = settings_with(tmp_path, **{name: value})
    assert shown.returncode != 0
    assert message in shown.stderr
