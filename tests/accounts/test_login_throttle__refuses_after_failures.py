"""Too many failed logins for one username or from one address, through the real login form or
the admin's, and the login pages answer 429 without checking the password; a success clears the
username's count; another address and another username are not affected."""

from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.signals import user_login_failed
from django.test import Client

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def small_limits(settings: Any, request: pytest.FixtureRequest) -> None:
    # A cache of each test's own: counts neither leak into other tests nor survive a rerun.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": request.node.nodeid,
        }
    }
    settings.STEPWISE_LOGIN_FAILURE_LIMIT = 3
    settings.STEPWISE_LOGIN_FAILURE_LIMIT_PER_ADDRESS = 5
    settings.STEPWISE_LOGIN_FAILURE_WINDOW_SECONDS = 600


@pytest.fixture
def password_checks() -> Iterator[list[str]]:
    """The usernames whose password Django checked and found wrong."""
    checked: list[str] = []

    def failed(sender: Any, credentials: dict[str, Any], **kwargs: Any) -> None:
        checked.append(credentials["username"])

    user_login_failed.connect(failed)
    yield checked
    user_login_failed.disconnect(failed)


def log_in(username: str, password: str, address: str = "198.51.100.7", path: str = "/login/"):
    client = Client(REMOTE_ADDR=address)
    return client, client.post(path, {"username": username, "password": password})


def test_after_the_limit_even_the_right_password_is_refused_unchecked(
    make_user, password_checks: list[str]
) -> None:
    make_user("ada", "viewers")
    for _ in range(3):
        assert log_in("ada", "guess")[1].status_code == 200  # the form again, with its error
    assert password_checks == ["ada"] * 3

    client, refused = log_in("ada", PASSWORD)
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) == 600
    page = refused.content.decode()
    assert "Too many failed logins" in page and "10 minutes" in page
    assert "_auth_user_id" not in client.session
    log_in("ADA ", "another guess")  # case and spaces do not make a new username
    assert password_checks == ["ada"] * 3

    # The same person from elsewhere is refused too: the username is what is guessed.
    assert log_in("ada", PASSWORD, address="203.0.113.9")[1].status_code == 429
    # Another user from that first address is not (yet) refused.
    make_user("bob", "viewers")
    assert log_in("bob", PASSWORD)[1].status_code == 302


def test_one_address_guessing_many_usernames_is_refused(make_user) -> None:
    make_user("carol", "viewers")
    for number in range(5):
        log_in(f"user-{number}", "guess", address="192.0.2.50")
    assert log_in("carol", PASSWORD, address="192.0.2.50")[1].status_code == 429
    assert log_in("carol", PASSWORD, address="192.0.2.51")[1].status_code == 302


def test_a_successful_login_clears_the_usernames_count(make_user) -> None:
    make_user("dan", "viewers")
    for _ in range(2):
        log_in("dan", "guess", address="192.0.2.60")
    assert log_in("dan", PASSWORD, address="192.0.2.61")[1].status_code == 302
    for _ in range(2):
        assert log_in("dan", "guess", address="192.0.2.62")[1].status_code == 200
    assert log_in("dan", PASSWORD, address="192.0.2.63")[1].status_code == 302


def test_the_admin_login_counts_and_refuses_alike(make_user) -> None:
    make_user("root", is_staff=True, is_superuser=True)
    for _ in range(3):
        assert log_in("root", "guess", path="/admin/login/")[1].status_code == 200
    client, refused = log_in("root", PASSWORD, path="/admin/login/")
    assert refused.status_code == 429
    assert "_auth_user_id" not in client.session
    # Both doors share the count.
    assert log_in("root", PASSWORD)[1].status_code == 429


def test_behind_a_declared_proxy_the_address_is_the_one_it_saw(settings: Any, make_user) -> None:
    """Clients behind one proxy are told apart by X-Forwarded-For's last entry, which the proxy
    wrote; what a client put before it cannot dodge the count."""
    settings.STEPWISE_BEHIND_TLS_PROXY = True
    make_user("erin", "viewers")
    for number in range(5):
        Client(REMOTE_ADDR="10.0.0.2").post(
            "/login/",
            {"username": f"user-{number}", "password": "guess"},
            headers={"X-Forwarded-For": f"1.2.3.{number}, 198.51.100.20"},
        )
    attacker = Client(REMOTE_ADDR="10.0.0.2", headers={"X-Forwarded-For": "198.51.100.20"})
    other = Client(REMOTE_ADDR="10.0.0.2", headers={"X-Forwarded-For": "198.51.100.21"})
    assert attacker.post("/login/", {"username": "erin", "password": PASSWORD}).status_code == 429
    assert other.post("/login/", {"username": "erin", "password": PASSWORD}).status_code == 302


def test_a_cache_that_is_down_never_makes_logging_in_a_500(
    make_user: Any, settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    # Nothing listens on this port: every cache call fails as when Redis is down.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",
            "OPTIONS": {"socket_connect_timeout": 0.2},
        }
    }
    make_user("ada", password=PASSWORD)
    _, wrong = log_in("ada", "not it")
    assert wrong.status_code == 200  # the form again, with its error
    _, right = log_in("ada", PASSWORD)
    assert right.status_code == 302
    assert "the cache cannot" in caplog.text
