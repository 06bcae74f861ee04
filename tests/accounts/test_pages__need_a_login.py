"""Pages need a logged-in user, except the login page and /health; logout ends the session."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/", "/designer/", "/runs/", "/inbox/"])
def test_anonymous_visitors_are_sent_to_the_login_page(client: Client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"] == f"/login/?next={path}"


def test_the_login_page_and_health_are_open(client: Client) -> None:
    assert client.get("/login/").status_code == 200
    assert client.get("/health").status_code == 200


def test_the_admin_asks_for_its_own_login(client: Client) -> None:
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_a_wrong_password_shows_an_error_and_logs_nobody_in(client: Client, make_user) -> None:
    make_user("ada", "designers")
    response = client.post("/login/", {"username": "ada", "password": "wrong"})
    assert response.status_code == 200
    assert "correct username and password" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_logging_in_shows_the_navigation(client: Client, make_user) -> None:
    make_user("ada", "designers")
    response = client.post(
        "/login/", {"username": "ada", "password": "correct horse battery"}, follow=True
    )
    page = response.content.decode()
    for label in ("Designer", "Runs", "Inbox"):
        assert f">{label}</a>" in page
    assert ">Admin</a>" not in page  # only staff see the admin link


def test_staff_see_the_admin_link(client: Client, make_user) -> None:
    user = make_user("root", is_staff=True, is_superuser=True)
    client.force_login(user)
    assert ">Admin</a>" in client.get("/").content.decode()


def test_logout_needs_a_post_and_ends_the_session(client: Client, make_user) -> None:
    client.force_login(make_user("ada"))
    assert client.get("/logout/").status_code == 405
    assert client.post("/logout/").status_code == 302
    assert client.get("/runs/").status_code == 302
