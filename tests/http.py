"""A logged-in HTTP client for tests that talk to a real server."""

import httpx


def logged_in_client(base_url: str, username: str, password: str) -> httpx.Client:
    """Log in through the real login form and return a client holding the session cookie."""
    client = httpx.Client(base_url=base_url, timeout=10)
    client.get("/login/").raise_for_status()
    response = client.post(
        "/login/",
        data={
            "username": username,
            "password": password,
            "csrfmiddlewaretoken": client.cookies["csrftoken"],
        },
        headers={"Referer": f"{base_url}/login/"},
    )
    assert response.status_code == 302, f"login as {username} failed: {response.status_code}"
    assert "sessionid" in client.cookies
    return client


def csrf_headers(client: httpx.Client) -> dict[str, str]:
    return {"X-CSRFToken": client.cookies["csrftoken"], "Referer": str(client.base_url)}
