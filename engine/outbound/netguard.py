"""The network guard: outgoing requests from workflows reach only public addresses.

A graph author could otherwise point an HTTP node at the database, the cloud metadata service
(169.254.169.254) or an admin port on localhost, and read the answer from the run's output.
Every address a host name resolves to must be public unless the operator allow-lists the host
or the address in `STEPWISE_HTTP_ALLOWLIST` (comma-separated host names, `*.suffix` wildcards,
IP addresses or CIDR networks, each optionally with `:port`; IPv6 in brackets with a port).

`check_url` vets a URL before each request and each redirect hop. `guarded_transport` vets
again when the socket connects, and connects to the very address it vetted, so a name whose
DNS answer changes between the two (DNS rebinding) cannot slip through.
"""

import ipaddress
import socket
import typing
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

import httpcore
import httpx
from django.conf import settings

from engine.core.errors import NonRetryableError

__all__ = [
    "AddressRefused",
    "AllowEntry",
    "HostNotFound",
    "Target",
    "check_address",
    "check_url",
    "forbidden_reason",
    "guarded_transport",
    "parse_allowlist",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

SETTING = "STEPWISE_HTTP_ALLOWLIST"
SCHEMES = {"http": 80, "https": 443}
# RFC 6052's well-known NAT64 prefix: a DNS64 resolver answers 64:ff9b::7f00:1 for a name whose
# only address is 127.0.0.1, and the NAT64 gateway then connects to 127.0.0.1 on our behalf.
NAT64_PREFIX = ipaddress.IPv6Network("64:ff9b::/96")


class AddressRefused(NonRetryableError):
    """The URL's scheme, host or resolved address is not one a workflow may call."""


class HostNotFound(ConnectionError):
    """The host name did not resolve (perhaps for now: DNS fails transiently, so retryable)."""


@dataclass(frozen=True)
class AllowEntry:
    """One allow-list entry: a host name (or `*.suffix`) or a network, and maybe a port."""

    text: str
    host: str | None = None
    network: IPNetwork | None = None
    port: int | None = None

    def allows_host(self, host: str, port: int) -> bool:
        if self.host is None or (self.port is not None and self.port != port):
            return False
        if self.host.startswith("*."):
            return host.endswith(self.host[1:])
        return host == self.host

    def allows_address(self, address: IPAddress, port: int) -> bool:
        if self.network is None or (self.port is not None and self.port != port):
            return False
        return address.version == self.network.version and address in self.network


@dataclass(frozen=True)
class Target:
    """A vetted destination: the host, the port and the addresses it may connect to."""

    host: str
    port: int
    addresses: tuple[str, ...]


def parse_allowlist(entries: Iterable[str] | str) -> tuple[AllowEntry, ...]:
    """Parse allow-list entries (or one comma-separated text); ValueError names a bad one."""
    if isinstance(entries, str):
        entries = entries.split(",")
    return _parse_allowlist(tuple(entry.strip() for entry in entries if entry.strip()))


@lru_cache(maxsize=16)
def _parse_allowlist(entries: tuple[str, ...]) -> tuple[AllowEntry, ...]:
    return tuple(_parse_entry(entry) for entry in entries)


def _parse_entry(text: str) -> AllowEntry:
    body, port = _split_port(text)
    try:
        network = ipaddress.ip_network(body, strict=False)
    except ValueError:
        pass
    else:
        return AllowEntry(text, network=_unmapped_network(network), port=port)
    host = body.lower().rstrip(".")
    label = host[2:] if host.startswith("*.") else host
    if not label or not all(_is_label(part) for part in label.split(".")):
        raise ValueError(
            f"{SETTING}: {text!r} is neither a host name, an IP address nor a CIDR network"
        )
    return AllowEntry(text, host=host, port=port)


def _split_port(text: str) -> tuple[str, int | None]:
    if text.startswith("["):
        closing = text.find("]")
        if closing < 0:
            raise ValueError(f"{SETTING}: {text!r} opens '[' but never closes it")
        rest = text[closing + 1 :]
        if rest and not rest.startswith(":"):
            raise ValueError(f"{SETTING}: {text!r} has text after ']' that is not ':port'")
        return text[1:closing], _port(text, rest[1:]) if rest else None
    if text.count(":") == 1:  # host:port or a.b.c.d/n:port; bare IPv6 has several colons
        body, port = text.split(":")
        return body, _port(text, port)
    return text, None


def _port(text: str, port: str) -> int:
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{SETTING}: {text!r} has an invalid port {port!r}")
    return int(port)


def _is_label(label: str) -> bool:
    return 0 < len(label) <= 63 and all(char.isalnum() or char in "-_" for char in label)


def _unmapped_network(network: IPNetwork) -> IPNetwork:
    # ::ffff:10.0.0.0/104 and 10.0.0.0/8 are the same hosts; addresses are compared unmapped.
    if isinstance(network, ipaddress.IPv6Network) and network.prefixlen >= 96:
        embedded = _embedded_ipv4(network.network_address)
        if embedded is not None:
            return ipaddress.ip_network(f"{embedded}/{network.prefixlen - 96}")
    return network


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv4-mapped or NAT64 address reaches, which is the one to judge."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in NAT64_PREFIX:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def forbidden_reason(address: IPAddress) -> str | None:
    """Why a workflow may not connect to this address, or None when it is public."""
    if isinstance(address, ipaddress.IPv6Address):
        # Addresses that carry an IPv4 address inside are judged by that address.
        embedded = _embedded_ipv4(address) or address.sixtofour
        if embedded is not None:
            return forbidden_reason(embedded)
        if address.teredo is not None:
            return forbidden_reason(address.teredo[1]) or forbidden_reason(address.teredo[0])
    for flag, reason in (
        ("is_unspecified", "unspecified"),
        ("is_loopback", "loopback"),
        ("is_link_local", "link-local"),
        ("is_multicast", "multicast"),
        ("is_reserved", "reserved"),
        ("is_private", "private"),
    ):
        if getattr(address, flag):
            return reason
    if not address.is_global:  # shared (100.64.0.0/10), documentation and other special ranges
        return "non-public"
    return None


def check_url(url: str, allowlist: Iterable[str] | str | None = None) -> Target:
    """Vet a URL: http(s) only, and its host must resolve to public (or allow-listed) addresses.

    Raises AddressRefused (never retried) or HostNotFound (retryable). `allowlist` defaults to
    the STEPWISE_HTTP_ALLOWLIST setting.
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise AddressRefused(f"not a valid URL: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        shown = f"{scheme!r}" if scheme else "none"
        raise AddressRefused(f"only http and https URLs may be called; the scheme is {shown}")
    if not parts.hostname:
        raise AddressRefused("the URL has no host")
    return check_address(parts.hostname, port or SCHEMES[scheme], allowlist)


def check_address(host: str, port: int, allowlist: Iterable[str] | str | None = None) -> Target:
    """Resolve a host and refuse it if ANY address it resolves to is forbidden."""
    entries = _allow_entries(allowlist)
    host = host.lower().rstrip(".").strip("[]")
    if any(entry.allows_host(host, port) for entry in entries):
        return Target(host, port, tuple(_resolve(host, port)))
    addresses = _resolve(host, port)
    for text in addresses:
        address = _unmapped(ipaddress.ip_address(text.split("%", 1)[0]))
        reason = forbidden_reason(address)
        if reason and not any(entry.allows_address(address, port) for entry in entries):
            via = "" if text == host else f" resolves to {text}, which"
            raise AddressRefused(
                f"{host}{via} is a {reason} address; workflows may call it only when "
                f"{SETTING} allows it"
            )
    return Target(host, port, tuple(addresses))


def _allow_entries(allowlist: Iterable[str] | str | None) -> tuple[AllowEntry, ...]:
    if allowlist is None:
        allowlist = getattr(settings, SETTING, ())
    try:
        return parse_allowlist(allowlist)
    except ValueError as exc:
        raise AddressRefused(str(exc)) from None


def _unmapped(address: IPAddress) -> IPAddress:
    if isinstance(address, ipaddress.IPv6Address):
        return _embedded_ipv4(address) or address
    return address


def _resolve(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise HostNotFound(f"{host} does not resolve: {exc}") from None
    addresses: list[str] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        text = str(sockaddr[0])
        if text not in addresses:
            addresses.append(text)
    if not addresses:
        raise HostNotFound(f"{host} resolves to no address")
    return addresses


class _GuardedBackend(httpcore.SyncBackend):
    """Connects only to addresses `check_address` approves, by address, never by name again."""

    def __init__(self, allowlist: Sequence[str] | str | None) -> None:
        self.allowlist = allowlist

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        try:
            target = check_address(host, port, self.allowlist)
        except HostNotFound as exc:
            raise httpcore.ConnectError(str(exc)) from None
        error: Exception | None = None
        for address in target.addresses:
            try:
                return super().connect_tcp(address, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc
        assert error is not None
        raise error


class _GuardedTransport(httpx.HTTPTransport):
    def __init__(self, allowlist: Sequence[str] | str | None, verify: bool = True) -> None:
        # No proxies from the environment: a proxy would make every request "go" to its
        # (often private) address and hide the real destination from the guard.
        super().__init__(trust_env=False, verify=verify)
        # httpx offers no way to pass a network backend, so its pool is rebuilt with one;
        # the pool's other settings are httpx's defaults, as above.
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(verify=verify, trust_env=False),
            max_connections=httpx.Limits().max_connections,
            keepalive_expiry=5.0,
            network_backend=_GuardedBackend(allowlist),
        )


def guarded_transport(
    allowlist: Sequence[str] | str | None = None, *, verify: bool = True
) -> httpx.HTTPTransport:
    """An httpx transport whose connections go only where `check_address` allows."""
    return _GuardedTransport(allowlist, verify=verify)
