"""The HTTP node renders its request, calls only allowed addresses, and sorts failures into
retryable and not, without ever showing a secret it used."""

import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import override_settings
from django.utils import timezone

from engine.core.errors import NonRetryableError
from engine.graph.nodes import http
from engine.graph.nodes.base import NodeContext
from engine.models import Run
from engine.outbound.grants import grant_secret
from engine.outbound.netguard import AddressRefused
from engine.outbound.secrets import SecretMissing
from tests.engine.graph.local_server import LocalServer, RecordedRequest, Reply

SECRET = "tok-9f8e7d6c5b4a"
KEY = "stepwise:7:3:call-api"
ORDER = {"id": 42, "customer": {"name": "Ada"}, "items": [{"sku": "A-1", "qty": 2}]}


@pytest.fixture
def server() -> Iterator[LocalServer]:
    with LocalServer() as running:
        yield running


@pytest.fixture
def allowed(server: LocalServer) -> Iterator[None]:
    with override_settings(STEPWISE_HTTP_ALLOWLIST=[f"127.0.0.1:{server.port}"]):
        yield


def call(config: dict[str, Any], run_id: int = 7, **scope: Any) -> Any:
    context = NodeContext(
        node_id="call-api",
        config=config,
        scope={"input": ORDER, **scope},
        run_id=run_id,
        idempotency_key=KEY,
    )
    return http.execute(context).output


@pytest.fixture
def granted(db: None) -> int:
    """A run of a workflow an administrator granted the secrets these tests send."""
    for name in ("CRM_TOKEN", "API_KEY", "NOPE"):
        grant_secret("crm-sync", name, None)
    return Run.objects.create(workflow="crm-sync", version="1", created_at=timezone.now()).pk


@pytest.mark.usefixtures("allowed")
def test_get_renders_url_query_and_headers_and_parses_json(server: LocalServer) -> None:
    """URL, query and headers are templates; a JSON answer becomes a value; the step's
    idempotency key goes along in Idempotency-Key."""
    server.route(
        "GET",
        "/orders/42",
        Reply(200, {"id": 42, "status": "paid"}, headers={"X-Request-Id": "r-1"}),
    )
    output = call(
        {
            "url": server.url("/orders/{{ input.id }}"),
            "query": {"expand": "{{ input.items[0].sku }}", "tags": ["a", "b"]},
            "headers": {"X-Customer": "{{ input.customer.name }}"},
        }
    )
    assert output["status"] == 200
    assert output["body"] == {"id": 42, "status": "paid"}
    assert output["headers"]["x-request-id"] == "r-1"
    assert output["headers"]["content-type"] == "application/json"
    assert output["truncated"] is False
    (request,) = server.requests
    assert request.query == {"expand": ["A-1"], "tags": ["a", "b"]}
    assert request.headers["x-customer"] == "Ada"
    assert request.headers["idempotency-key"] == KEY


@pytest.mark.usefixtures("allowed")
def test_post_sends_the_rendered_body_as_json(server: LocalServer) -> None:
    """A whole `{{ expr }}` keeps its value's type inside the JSON body; text answers stay text."""
    server.route("POST", "/orders", Reply(201, "created"))
    output = call(
        {
            "method": "POST",
            "url": server.url("/orders"),
            "body": {
                "order": "{{ input.id }}",
                "items": "{{ input.items }}",
                "note": "for {{ x }}",
            },
        },
        x="Ada",
    )
    assert output["status"] == 201
    assert output["body"] == "created"
    (request,) = server.requests
    assert request.headers["content-type"] == "application/json"
    assert request.json() == {"order": 42, "items": ORDER["items"], "note": "for Ada"}


@pytest.mark.usefixtures("allowed")
def test_a_text_body_is_sent_as_text_and_head_has_no_body(server: LocalServer) -> None:
    """A text body goes as text/plain unless a Content-Type says otherwise; HEAD gives null."""
    server.route("PUT", "/notes", Reply(204))
    server.route("HEAD", "/notes", Reply(200, "ignored"))
    call({"method": "PUT", "url": server.url("/notes"), "body": "hello {{ input.id }}"})
    assert call({"method": "HEAD", "url": server.url("/notes")})["body"] is None
    assert server.requests[0].text == "hello 42"
    assert server.requests[0].headers["content-type"].startswith("text/plain")


@pytest.mark.usefixtures("allowed")
def test_the_idempotency_header_can_be_renamed_or_left_out(server: LocalServer) -> None:
    """`idempotency_header` names the header; an empty name sends none."""
    server.route("POST", "/pay", Reply(200))
    call({"method": "POST", "url": server.url("/pay"), "idempotency_header": "X-Once"})
    call({"method": "POST", "url": server.url("/pay"), "idempotency_header": ""})
    assert server.requests[0].headers["x-once"] == KEY
    assert "idempotency-key" not in server.requests[0].headers
    assert "x-once" not in server.requests[1].headers
    assert "idempotency-key" not in server.requests[1].headers


@pytest.mark.usefixtures("allowed")
def test_a_secret_reaches_the_server_but_never_the_output(
    server: LocalServer, monkeypatch: pytest.MonkeyPatch, granted: int
) -> None:
    """`{{ secrets.NAME }}` is read from STEPWISE_SECRET_NAME; an answer echoing it (in the body,
    a header or the URL) comes back redacted, and credential headers are left out."""
    monkeypatch.setenv("STEPWISE_SECRET_CRM_TOKEN", SECRET)

    def echo(request: RecordedRequest) -> Reply:
        return Reply(
            200,
            {"seen": request.headers["authorization"], "key": request.query["key"]},
            headers={"X-Echo": SECRET, "Set-Cookie": "session=abc", "X-Auth-Token": "t"},
        )

    server.route("GET", "/leads", echo)
    output = call(
        run_id=granted,
        config={
            "url": server.url("/leads?key={{ secrets.crm_token }}"),
            "headers": {"Authorization": "Bearer {{ secrets.CRM_TOKEN }}"},
        },
    )
    assert server.requests[0].headers["authorization"] == f"Bearer {SECRET}"
    assert SECRET not in json.dumps(output)
    assert output["body"] == {"seen": "Bearer [secret]", "key": ["[secret]"]}
    assert output["headers"]["x-echo"] == "[secret]"
    assert "set-cookie" not in output["headers"]
    assert "x-auth-token" not in output["headers"]


@pytest.mark.usefixtures("allowed")
def test_a_secret_never_appears_in_an_error(
    server: LocalServer, monkeypatch: pytest.MonkeyPatch, granted: int
) -> None:
    """An error answer that repeats the secret is reported with the secret redacted."""
    monkeypatch.setenv("STEPWISE_SECRET_CRM_TOKEN", SECRET)
    server.route("POST", "/leads", Reply(400, {"error": f"bad token {SECRET}"}))
    with pytest.raises(NonRetryableError) as raised:
        call(
            run_id=granted,
            config={
                "method": "POST",
                "url": server.url("/leads?token={{ secrets.CRM_TOKEN }}"),
                "body": {"token": "{{ secrets.CRM_TOKEN }}"},
            },
        )
    assert SECRET not in str(raised.value)
    assert "answered 400" in str(raised.value)
    assert "[secret]" in str(raised.value)


def test_a_missing_secret_fails_at_once_naming_its_variable(
    monkeypatch: pytest.MonkeyPatch,
    granted: int,
) -> None:
    """A secret without its environment variable fails the node without retrying."""
    monkeypatch.delenv("STEPWISE_SECRET_NOPE", raising=False)
    with pytest.raises(SecretMissing, match="STEPWISE_SECRET_NOPE"):
        call(
            run_id=granted,
            config={"url": "https://example.com/", "headers": {"X-Key": "{{ secrets.nope }}"}},
        )


def test_loopback_is_refused_without_an_allowlist(server: LocalServer) -> None:
    """With the default (empty) allow-list a loopback URL is refused before any request."""
    server.route("GET", "/admin", Reply(200))
    with override_settings(STEPWISE_HTTP_ALLOWLIST=[]), pytest.raises(AddressRefused) as raised:
        call({"url": server.url("/admin")})
    assert isinstance(raised.value, NonRetryableError)
    assert "loopback" in str(raised.value)
    assert server.requests == []


def test_the_allowlist_opens_loopback(server: LocalServer) -> None:
    """Listing the address (here as a network) lets the node call it."""
    server.route("GET", "/health", Reply(200, {"ok": True}))
    with override_settings(STEPWISE_HTTP_ALLOWLIST=["127.0.0.0/8"]):
        assert call({"url": server.url("/health")})["body"] == {"ok": True}


@pytest.mark.usefixtures("allowed")
def test_redirects_are_followed_and_each_hop_is_checked(server: LocalServer) -> None:
    """A redirect within allowed addresses is followed; one to an address the allow-list does
    not cover (another port here) is refused before it is requested."""
    with LocalServer() as other:
        other.route("GET", "/inside", Reply(200, "secret admin page"))
        server.route("GET", "/start", Reply(302, headers={"Location": "/end"}))
        server.route("GET", "/end", Reply(200, "done"))
        server.route("GET", "/escape", Reply(302, headers={"Location": other.url("/inside")}))
        output = call({"url": server.url("/start")})
        assert output["body"] == "done"
        assert output["url"].endswith("/end")
        with pytest.raises(AddressRefused):
            call({"url": server.url("/escape")})
        assert other.requests == []


@pytest.mark.usefixtures("allowed")
def test_secret_headers_do_not_follow_a_redirect_to_another_origin(
    server: LocalServer, monkeypatch: pytest.MonkeyPatch, granted: int
) -> None:
    """A redirect to another origin drops the headers that were built from secrets."""
    monkeypatch.setenv("STEPWISE_SECRET_API_KEY", SECRET)
    with LocalServer() as other:
        other.route("GET", "/landing", Reply(200, "ok"))
        server.route("GET", "/go", Reply(307, headers={"Location": other.url("/landing")}))
        listed = [f"127.0.0.1:{server.port}", f"127.0.0.1:{other.port}"]
        with override_settings(STEPWISE_HTTP_ALLOWLIST=listed):
            call(
                run_id=granted,
                config={
                    "url": server.url("/go"),
                    "headers": {"X-Api-Key": "{{ secrets.API_KEY }}"},
                },
            )
        assert server.requests[0].headers["x-api-key"] == SECRET
        assert "x-api-key" not in other.requests[0].headers


@pytest.mark.usefixtures("allowed")
def test_endless_redirects_fail(server: LocalServer) -> None:
    """More than five redirects fail the node for good."""
    server.route("GET", "/loop", Reply(302, headers={"Location": "/loop"}))
    with pytest.raises(http.HttpStatusRefused, match="more than 5"):
        call({"url": server.url("/loop")})
    assert len(server.requests) == 6


@pytest.mark.usefixtures("allowed")
@pytest.mark.parametrize("status", [500, 503, 408, 429])
def test_server_errors_and_throttling_are_retryable(server: LocalServer, status: int) -> None:
    """5xx, 408 and 429 raise an error the retry policy retries."""
    server.route("GET", "/flaky", Reply(status, {"error": "try later"}))
    with pytest.raises(http.HttpStatusError) as raised:
        call({"url": server.url("/flaky")})
    assert not isinstance(raised.value, NonRetryableError)
    assert raised.value.status == status
    assert f"answered {status}" in str(raised.value)


@pytest.mark.usefixtures("allowed")
def test_other_unexpected_statuses_are_not_retried(server: LocalServer) -> None:
    """A 404 (or any 4xx but 408/429) fails the node at once, quoting the answer."""
    server.route("GET", "/missing", Reply(404, {"error": "no such order"}))
    with pytest.raises(NonRetryableError, match=r"answered 404 Not Found: .*no such order"):
        call({"url": server.url("/missing")})


@pytest.mark.usefixtures("allowed")
def test_expect_lists_the_statuses_that_count_as_success(server: LocalServer) -> None:
    """`expect` takes codes and classes: a listed 404 is an output, an unlisted 200 an error."""
    server.route("GET", "/missing", Reply(404, {"error": "no such order"}))
    server.route("GET", "/ok", Reply(200))
    output = call({"url": server.url("/missing"), "expect": ["2xx", 404]})
    assert output["status"] == 404
    assert output["body"] == {"error": "no such order"}
    assert call({"url": server.url("/missing"), "expect": ["4xx"]})["status"] == 404
    with pytest.raises(http.HttpStatusRefused):
        call({"url": server.url("/ok"), "expect": [201]})


@pytest.mark.usefixtures("allowed")
def test_large_answers_are_cut_at_one_megabyte(server: LocalServer) -> None:
    """A body over 1 MB is cut and marked truncated (and then left as text)."""
    server.route("GET", "/big", Reply(200, "x" * 1_500_000))
    output = call({"url": server.url("/big")})
    assert output["truncated"] is True
    assert len(output["body"]) == http.MAX_BODY_BYTES


@pytest.mark.usefixtures("allowed")
def test_timeouts_and_refused_connections_are_retryable(server: LocalServer) -> None:
    """A slow server or a closed port raises a retryable error."""
    server.route("GET", "/slow", Reply(200, "late", delay=1.0))
    with pytest.raises(http.HttpRequestFailed, match="timed out"):
        call({"url": server.url("/slow"), "timeout": 0.2})
    closed = LocalServer()
    port = closed.port
    closed.close()
    with (
        override_settings(STEPWISE_HTTP_ALLOWLIST=["127.0.0.1"]),
        pytest.raises(http.HttpRequestFailed),
    ):
        call({"url": f"http://127.0.0.1:{port}/"})


def test_non_http_schemes_are_refused() -> None:
    """file:, ftp: and friends are refused before anything happens."""
    for url in ("file:///etc/passwd", "ftp://example.com/x", "gopher://example.com/"):
        with pytest.raises(AddressRefused, match="only http and https"):
            call({"url": url})


def test_check_reports_a_static_url_that_is_not_http() -> None:
    """Validation flags a URL without templates that is not http(s); templates pass."""
    from engine.graph.nodes.base import CheckContext

    assert [p.message for p in http.check("n", {"url": "ftp://x"}, CheckContext())] == [
        "the URL must start with http:// or https://"
    ]
    assert http.check("n", {"url": "{{ input.url }}"}, CheckContext()) == []
    assert http.check("n", {"url": "https://api.example.com/v1"}, CheckContext()) == []
