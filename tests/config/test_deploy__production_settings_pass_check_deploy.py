"""Production settings pass `manage.py check --deploy`: HSTS, Secure and HttpOnly cookies and a
redirect to HTTPS follow from an https STEPWISE_BASE_URL (or a TLS proxy), with DEBUG off by
default; the embedded default stays plain HTTP so `make run` works in any browser."""

import json
import secrets
import subprocess

import pytest

from tests.processes import process_environment, run_python

PRODUCTION = {
    "DATABASE_URL": "postgres://stepwise:pw@db.internal:5432/stepwise",
    "REDIS_URL": "redis://cache.internal:6379/0",
    "SECRET_KEY": secrets.token_urlsafe(60),
    "ALLOWED_HOSTS": "stepwise.example.com",
    "STEPWISE_BASE_URL": "https://stepwise.example.com",
    "EMAIL_HOST": "smtp.example.com",
    "DEBUG": None,
}

# What a browser receives: asked over HTTPS and over plain HTTP (no database is needed).
ANSWERS = """
import json, django
django.setup()
from django.conf import settings
from django.test import Client
client = Client(HTTP_HOST="stepwise.example.com")
secure = client.get("/login/", secure=True)
plain = client.get("/login/")
proxied = client.get("/login/", headers={"X-Forwarded-Proto": "https"})
print(json.dumps({
    "hsts": secure.headers.get("Strict-Transport-Security"),
    "csrf_cookie": secure.cookies["csrftoken"].output() if "csrftoken" in secure.cookies else "",
    "plain": [plain.status_code, plain.headers.get("Location")],
    "proxied": proxied.status_code,
    "proxy_header": settings.SECURE_PROXY_SSL_HEADER,
    "session_cookie_secure": settings.SESSION_COOKIE_SECURE,
    "session_cookie_httponly": settings.SESSION_COOKIE_HTTPONLY,
}))
"""


def run(tmp_path, args: list[str], **env: str | None) -> subprocess.CompletedProcess[str]:
    return run_python(args, process_environment(STEPWISE_VAR_DIR=str(tmp_path), **env))


def test_check_deploy_finds_nothing_with_production_settings(tmp_path) -> None:
    """Silenced: only security.W021 (HSTS preload), a commitment of the domain's owner."""
    checked = run(tmp_path, ["manage.py", "check", "--deploy"], **PRODUCTION)
    assert checked.returncode == 0, checked.stderr
    assert "System check identified no issues (1 silenced)." in checked.stdout, checked.stdout


def test_over_https_cookies_are_secure_and_http_is_redirected(tmp_path) -> None:
    shown = run(tmp_path, ["-c", ANSWERS], **PRODUCTION)
    assert shown.returncode == 0, shown.stderr
    answers = json.loads(shown.stdout)
    assert answers["hsts"] == "max-age=31536000; includeSubDomains"
    assert "Secure" in answers["csrf_cookie"] and "HttpOnly" in answers["csrf_cookie"]
    assert answers["session_cookie_secure"] and answers["session_cookie_httponly"]
    assert answers["plain"] == [301, "https://stepwise.example.com/login/"]
    # Without a declared proxy, a client's X-Forwarded-Proto proves nothing.
    assert answers["proxied"] == 301
    assert answers["proxy_header"] is None


def test_a_declared_tls_proxy_is_believed_and_implies_https(tmp_path) -> None:
    behind_proxy = {**PRODUCTION, "STEPWISE_BASE_URL": None, "STEPWISE_BEHIND_TLS_PROXY": "true"}
    shown = run(tmp_path, ["-c", ANSWERS], **behind_proxy)
    assert shown.returncode == 0, shown.stderr
    answers = json.loads(shown.stdout)
    assert answers["proxied"] == 200
    assert answers["proxy_header"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert answers["plain"][0] == 301
    assert answers["session_cookie_secure"]


@pytest.mark.parametrize("debug", [None, "true"])
def test_the_embedded_default_and_debug_stay_on_plain_http(tmp_path, debug) -> None:
    """http://127.0.0.1 must keep working: no redirect, no HSTS, no Secure cookies; cookies
    stay HttpOnly."""
    shown = run(
        tmp_path,
        ["-c", ANSWERS.replace("stepwise.example.com", "127.0.0.1")],
        DATABASE_URL=None,
        REDIS_URL=None,
        SECRET_KEY=None,
        STEPWISE_BASE_URL=None,
        DEBUG=debug,
    )
    assert shown.returncode == 0, shown.stderr
    answers = json.loads(shown.stdout)
    assert answers["plain"] == [200, None]
    assert answers["hsts"] is None
    assert "Secure" not in answers["csrf_cookie"] and "HttpOnly" in answers["csrf_cookie"]
    assert not answers["session_cookie_secure"]
