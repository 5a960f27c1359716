"""SSRF guard: webhook URLs may not reach this pod's own network unless allowed on purpose.

A webhook URL is refused when its scheme is not http(s), or when any address its host
resolves to is loopback, private (RFC 1918 / unique-local), link-local, carrier-grade NAT,
multicast, reserved, unspecified, or a cloud metadata endpoint, including IPv4 addresses
embedded in IPv6 ones (mapped, 6to4, Teredo). The operator of the
service can admit specific hosts, addresses or CIDR blocks with WEBHOOK_ALLOWLIST (for an
in-cluster receiver, say). The check runs at registration and again before every delivery
attempt, and the delivery connection itself goes through `PinnedBackend`: it resolves the
host, checks every address and connects to a checked address in one step, so a DNS answer
that changes between the check and the connect (DNS rebinding) cannot steer it inside.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

#: Instance metadata services of the major clouds (AWS, GCP, Azure, Alibaba, Oracle, ...).
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "169.254.170.2", "100.100.100.200", "192.0.0.192", "fd00:ec2::254")
)
METADATA_HOSTS = frozenset({"metadata.google.internal", "metadata", "instance-data"})
_CGNAT = ipaddress.ip_network("100.64.0.0/10")


class UnsafeWebhookURL(ValueError):
    """The URL points somewhere webhooks may not go; the message says why."""


def _forbidden_reason(ip: IPAddress) -> str | None:
    if isinstance(ip, ipaddress.IPv6Address):
        # IPv6 forms that carry an IPv4 address inside are judged by that address too:
        # ::ffff:a.b.c.d (mapped), 2002:AABB:CCDD:: (6to4) and 2001:0::/32 (Teredo).
        for inner in (ip.ipv4_mapped, ip.sixtofour, *(ip.teredo or ())):
            if inner is not None and (reason := _forbidden_reason(inner)) is not None:
                return reason
    if ip in METADATA_ADDRESSES:
        return "a cloud metadata address"
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_unspecified:
        return "an unspecified address"
    if ip.is_multicast:
        return "a multicast address"
    if isinstance(ip, ipaddress.IPv4Address) and ip in _CGNAT:
        return "a carrier-grade NAT address"
    if ip.is_private:
        return "a private address"
    if ip.is_reserved:
        return "a reserved address"
    return None


class URLGuard:
    """Checks webhook URLs against the rules above and the configured allow-list."""

    def __init__(self, allowlist: Sequence[str]) -> None:
        self._hosts: set[str] = set()
        self._networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
        for entry in allowlist:
            try:
                self._networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                self._hosts.add(entry.lower().rstrip("."))

    def _allowed_ip(self, ip: IPAddress) -> bool:
        return any(ip in net for net in self._networks)

    async def check(self, url: str) -> None:
        """Return when `url` may be delivered to now; raise UnsafeWebhookURL otherwise."""
        try:
            parts = urlsplit(url)
            port = parts.port  # parsed lazily: raises here for a port out of range
        except ValueError as exc:
            raise UnsafeWebhookURL(f"Webhook URL is not a valid URL: {exc}.") from exc
        if parts.scheme not in ("http", "https"):
            raise UnsafeWebhookURL(
                f"Webhook URL scheme must be http or https, not {parts.scheme!r}."
            )
        host = (parts.hostname or "").lower().rstrip(".")
        if not host:
            raise UnsafeWebhookURL("Webhook URL has no host.")
        if parts.username or parts.password:
            raise UnsafeWebhookURL("Webhook URL may not carry credentials; use the signing secret.")
        if host in self._hosts:
            return  # admitted by name: it need not resolve yet at registration
        await self.approved_addresses(host, port or (443 if parts.scheme == "https" else 80))

    async def approved_addresses(self, host: str, port: int) -> list[IPAddress]:
        """Every address `host` resolves to now, if all of them may be reached; else raise."""
        host = host.lower().rstrip(".")
        if host in self._hosts:
            return await self._resolve(host, port)
        if host in METADATA_HOSTS:
            raise UnsafeWebhookURL(f"Webhook host {host!r} is a cloud metadata endpoint.")
        addresses = await self._resolve(host, port)
        for ip in addresses:
            if self._allowed_ip(ip):
                continue
            reason = _forbidden_reason(ip)
            if reason is not None:
                raise UnsafeWebhookURL(
                    f"Webhook host {host!r} resolves to {ip}, {reason}; add it to "
                    "WEBHOOK_ALLOWLIST if this receiver is meant to be reached."
                )
        return addresses

    async def _resolve(self, host: str, port: int) -> list[IPAddress]:
        try:
            return [ipaddress.ip_address(host.strip("[]"))]
        except ValueError:
            pass
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as exc:
            # UnicodeError: a name IDNA cannot encode (an empty label, or one over 63 chars).
            raise UnsafeWebhookURL(f"Webhook host {host!r} does not resolve.") from exc
        addresses: list[IPAddress] = []
        for info in infos:
            text = str(info[4][0]).split("%", 1)[0]
            addresses.append(ipaddress.ip_address(text))
        if not addresses:
            raise UnsafeWebhookURL(f"Webhook host {host!r} does not resolve.")
        return addresses


class PinnedBackend(httpcore.AsyncNetworkBackend):
    """Opens connections only to addresses the guard approved in the same step.

    TLS still verifies the certificate against the URL's host name: httpcore passes that name
    to `start_tls`, whatever address the socket was opened to.
    """

    def __init__(self, guard: URLGuard, inner: httpcore.AsyncNetworkBackend | None = None) -> None:
        self._guard = guard
        self._inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            addresses = await self._guard.approved_addresses(host, port)
        except UnsafeWebhookURL as exc:
            raise httpcore.ConnectError(f"refused: {exc}") from exc
        failure: Exception = httpcore.ConnectError(f"no address of {host!r} accepted a connection")
        for ip in addresses:
            try:
                return await self._inner.connect_tcp(
                    str(ip), port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        raise failure

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("Webhooks are delivered over TCP only.")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class PinnedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport with its connection pool opening sockets through `PinnedBackend`."""

    def __init__(self, guard: URLGuard) -> None:
        super().__init__(trust_env=False)
        # httpx has no public knob for the network backend; the pool it builds is replaced by
        # the same pool (HTTP/1.1, system CA bundle, httpx's default limits and keep-alive
        # expiry) on the pinned backend.
        limits = httpx.Limits(max_connections=100, max_keepalive_connections=20)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=PinnedBackend(guard),
        )
