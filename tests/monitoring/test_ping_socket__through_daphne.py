"""A WebSocket client reaches the ping consumer through a real Daphne and the Redis layer."""

import json

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from tests.http import logged_in_client

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def ws_url(base_url: str) -> str:
    return base_url.replace("http://", "ws://") + "/ws/ping/"


# The synchronous client: Playwright's tests keep an event loop running in this thread.
def ping(base_url: str, cookie: str) -> dict:
    headers = {"Cookie": cookie, "Origin": base_url}
    with connect(ws_url(base_url), additional_headers=headers, open_timeout=10) as socket:
        socket.send(json.dumps({"type": "ping", "id": 7}))
        return json.loads(socket.recv(timeout=10))


def test_a_logged_in_client_gets_a_pong(daphne_server: str, make_user) -> None:
    make_user("vera", "viewers")
    client = logged_in_client(daphne_server, "vera", "correct horse battery")
    cookie = f"sessionid={client.cookies['sessionid']}"
    assert ping(daphne_server, cookie) == {"type": "pong", "id": 7, "user": "vera"}


def test_an_anonymous_socket_is_refused(daphne_server: str) -> None:
    with pytest.raises(InvalidStatus) as refused:
        ping(daphne_server, cookie="")
    assert refused.value.response.status_code == 403


def test_a_foreign_origin_is_refused(daphne_server: str, make_user) -> None:
    make_user("vera", "viewers")
    client = logged_in_client(daphne_server, "vera", "correct horse battery")

    headers = {
        "Cookie": f"sessionid={client.cookies['sessionid']}",
        "Origin": "http://evil.example",
    }
    with pytest.raises(InvalidStatus) as refused:
        connect(ws_url(daphne_server), additional_headers=headers, open_timeout=10)
    assert refused.value.response.status_code == 403
