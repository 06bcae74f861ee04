"""The network guard refuses non-http schemes and every private, loopback, link-local,
multicast, reserved or unspecified address (IPv4, IPv6 and IPv4 inside IPv6) unless the
allow-list names the host or the address, and it checks again when the socket connects."""

import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from engine.core.errors import NonRetryableError
from engine.outbound.netguard import (
    AddressRefused,
    HostNotFound,
    check_url,
    guarded_transport,
    parse_allowlist,
)

REFUSED = [
    ("http://10.1.2.3/", "private"),
    ("http://172.16.0.1/", "private"),
    ("http://192.168.1.20:8080/admin", "private"),
    ("http://169.254.169.254/latest/meta-data/", "link-local"),
    ("http://127.0.0.1/", "loopback"),
    ("http://0.0.0.0/", "unspecified"),
    ("http://224.0.0.1/", "multicast"),
    ("http://240.0.0.1/", "reserved"),
    ("http://100.64.0.1/", "non-public"),
    ("http://[::1]/", "loopback"),
    ("http://[::]/", "unspecified"),
    ("http://[fe80::1]/", "link-local"),
    ("http://[fd00::1]/", "private"),
    ("http://[ff02::1]/", "multicast"),
    ("http://[::ffff:127.0.0.1]/", "loopback"),
    ("http://[::ffff:10.0.0.1]/", "private"),
    ("http://[2002:c0a8:0101::1]/", "private"),  # 6to4 around 192.168.1.1
    ("http://[64:ff9b::7f00:1]/", "loopback"),  # NAT64 around 127.0.0.1
    ("http://[64:ff9b::a9fe:a9fe]/", "link-local"),  # NAT64 around the metadata service
    ("http://[64:ff9b::a00:1]/", "private"),  # NAT64 around 10.0.0.1
    ("http://2130706433/", "loopback"),  # 127.0.0.1 written as one number
    ("http://localhost/", "loopback"),
]


def fake_dns(monkeypatch: pytest.MonkeyPatch, answers: dict[str, list[list[str]]]) -> list[str]:
    """Answer getaddrinfo for these names: each lookup takes the next answer, the last repeats."""
    real = socket.getaddrinfo
    asked: list[str] = []

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host not in answers:
            return real(host, port, *args, **kwargs)
        asked.append(host)
        queue = answers[host]
        addresses = queue.pop(0) if len(queue) > 1 else queue[0]
        return [
            (
                socket.AF_INET6 if ":" in address else socket.AF_INET,
                socket.SOCK_STREAM,
                6,
                "",
                (address, port),
            )
            for address in addresses
        ]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return asked


@pytest.mark.parametrize(("url", "reason"), REFUSED)
def test_forbidden_addresses_are_refused(url: str, reason: str) -> None:
    """Each address class is refused without an allow-list, saying which class it is."""
    with pytest.raises(AddressRefused, match=f"a {reason} address") as raised:
        check_url(url, allowlist=[])
    assert isinstance(raised.value, NonRetryableError)
    assert "STEPWISE_HTTP_ALLOWLIST" in str(raised.value)


def test_public_addresses_pass() -> None:
    """Public IPv4 and IPv6 addresses pass and are returned as the addresses to connect to."""
    target = check_url("https://93.184.215.14:8443/x", allowlist=[])
    assert (target.host, target.port, target.addresses) == (
        "93.184.215.14",
        8443,
        ("93.184.215.14",),
    )
    assert check_url("http://[2606:4700::1111]/", allowlist=[]).port == 80
    # NAT64 around a public IPv4 address is that address, public too.
    assert check_url("http://[64:ff9b::808:808]/", allowlist=[]).port == 80


def test_a_dns64_answer_is_judged_by_the_ipv4_address_it_embeds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Behind DNS64, a name of 127.0.0.1 resolves to 64:ff9b::7f00:1; the NAT64 gateway would
    connect to 127.0.0.1, so the guard refuses it as loopback and the allow-list, which speaks
    IPv4, opens it as 127.0.0.1."""
    fake_dns(monkeypatch, {"internal.example": [["64:ff9b::7f00:1"]]})
    with pytest.raises(AddressRefused, match=r"resolves to 64:ff9b::7f00:1, which is a loopback"):
        check_url("http://internal.example/", allowlist=[])
    assert check_url("http://internal.example/", ["127.0.0.1"]).addresses == ("64:ff9b::7f00:1",)


@pytest.mark.parametrize(
    "url",
    ["file:///etc/passwd", "ftp://example.com/", "gopher://x/", "javascript:alert(1)", "//x/"],
)
def test_only_http_and_https_are_allowed(url: str) -> None:
    """Any other scheme is refused before anything is resolved."""
    with pytest.raises(AddressRefused, match="only http and https"):
        check_url(url, allowlist=[])


def test_a_name_is_refused_if_any_of_its_addresses_is_forbidden(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """One private address among public ones is enough to refuse the name."""
    fake_dns(monkeypatch, {"mixed.example": [["93.184.215.14", "10.0.0.7"]]})
    with pytest.raises(AddressRefused, match=r"mixed\.example resolves to 10\.0\.0\.7"):
        check_url("https://mixed.example/", allowlist=[])


def test_an_unknown_name_is_a_retryable_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    """A name that does not resolve may resolve later: HostNotFound is not NonRetryable."""

    def fail(*args: Any, **kwargs: Any) -> Any:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", fail)
    with pytest.raises(HostNotFound) as raised:
        check_url("https://no-such-host.example/", allowlist=[])
    assert not isinstance(raised.value, NonRetryableError)


def test_allowlist_networks_hosts_and_ports() -> None:
    """CIDR, address, host and port entries each open exactly what they name."""
    allow = ["10.0.0.0/8", "127.0.0.1:8080", "[::1]:9000", "localhost:7000"]
    assert check_url("http://10.20.30.40/", allow).addresses == ("10.20.30.40",)
    assert check_url("http://[::ffff:10.0.0.1]/", allow).port == 80  # mapped, judged unmapped
    check_url("http://127.0.0.1:8080/", allow)
    check_url("http://[::1]:9000/", allow)
    check_url("http://localhost:7000/", allow)
    for refused in (
        "http://192.168.0.1/",
        "http://127.0.0.1/",
        "http://127.0.0.1:8081/",
        "http://[::1]:9001/",
        "http://localhost:7001/",
    ):
        with pytest.raises(AddressRefused):
            check_url(refused, allow)


def test_allowlist_wildcards_and_comma_separated_text(monkeypatch: pytest.MonkeyPatch) -> None:
    """`*.suffix` allows every host under it; the setting's text form is comma-separated."""
    fake_dns(monkeypatch, {"crm.corp.example": [["10.9.8.7"]], "corp.example.evil": [["10.9.8.7"]]})
    check_url("https://crm.corp.example/", "*.corp.example, 192.168.0.0/16")
    with pytest.raises(AddressRefused):
        check_url("https://corp.example.evil/", "*.corp.example")


@pytest.mark.parametrize("entry", ["10.0.0.0/33", "bad host", "host:99999", "[::1", "a..b"])
def test_a_bad_allowlist_entry_is_named(entry: str) -> None:
    """An entry that is neither host, address nor network is reported by its text."""
    with pytest.raises(ValueError, match="STEPWISE_HTTP_ALLOWLIST"):
        parse_allowlist([entry])
    with pytest.raises(AddressRefused, match="STEPWISE_HTTP_ALLOWLIST"):
        check_url("https://93.184.215.14/", [entry])


@pytest.fixture
def transport() -> Iterator[httpx.HTTPTransport]:
    guarded = guarded_transport([])
    yield guarded
    guarded.close()


def test_the_transport_checks_again_when_it_connects(
    monkeypatch: pytest.MonkeyPatch, transport: httpx.HTTPTransport
) -> None:
    """DNS rebinding: a name that was public when checked and is loopback when connecting
    is refused by the transport, which connects only to addresses it vetted itself."""
    asked = fake_dns(monkeypatch, {"rebind.example": [["93.184.215.14"], ["127.0.0.1"]]})
    check_url("http://rebind.example/", allowlist=[])
    with httpx.Client(transport=transport) as client, pytest.raises(AddressRefused):
        client.get("http://rebind.example/")
    assert asked == ["rebind.example", "rebind.example"]
