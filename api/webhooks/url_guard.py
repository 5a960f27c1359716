"""SSRF guard: webhook URLs may not reach this pod's own network unless allowed on purpose.

A webhook URL is refused when its scheme is not http(s), or when any address its host
resolves to is loopback, private (RFC 1918 / unique-local), link-local, carrier-grade NAT,
multicast, reserved, unspecified, or a cloud metadata endpoint, including IPv4 addresses
embedded in IPv6 ones (mapped, 6to4, Teredo). The operator of the
service can admit specific hosts, addresses or CIDR blocks with WEBHOOK_ALLOWLIST (for an
in-cluster receiver, say). The check runs at registration and again before every delivery
attempt, so a DNS name that later points inside (DNS rebinding) is refused then too.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Sequence
from urllib.parse import urlsplit

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
        parts = urlsplit(url)
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
            return
        if host in METADATA_HOSTS:
            raise UnsafeWebhookURL(f"Webhook host {host!r} is a cloud metadata endpoint.")
        for ip in await self._resolve(host, parts.port or (443 if parts.scheme == "https" else 80)):
            if self._allowed_ip(ip):
                continue
            reason = _forbidden_reason(ip)
            if reason is not None:
                raise UnsafeWebhookURL(
                    f"Webhook host {host!r} resolves to {ip}, {reason}; add it to "
                    "WEBHOOK_ALLOWLIST if this receiver is meant to be reached."
                )

    async def _resolve(self, host: str, port: int) -> list[IPAddress]:
        try:
            return [ipaddress.ip_address(host)]
        except ValueError:
            pass
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise UnsafeWebhookURL(f"Webhook host {host!r} does not resolve.") from exc
        addresses: list[IPAddress] = []
        for info in infos:
            text = str(info[4][0]).split("%", 1)[0]
            addresses.append(ipaddress.ip_address(text))
        if not addresses:
            raise UnsafeWebhookURL(f"Webhook host {host!r} does not resolve.")
        return addresses
