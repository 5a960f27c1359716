"""Webhooks cannot be aimed at the service's own network, however the address is spelled.

Registration refuses every form below; a receiver that is allowed but answers with a
redirect to an internal address never gets the delivery followed there; and a name whose DNS
answer turns internal between the check and the connection (DNS rebinding) is not connected to.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from api.webhooks import PinnedTransport, URLGuard
from api.webhooks.url_guard import IPAddress
from tests.support.api_harness import ApiFactory

INTERNAL_URLS = [
    # loopback, spelled every way a resolver accepts
    "http://127.0.0.1:8080/hook",
    "http://127.1/hook",
    "http://2130706433/hook",  # decimal
    "http://017700000001/hook",  # octal, one number
    "http://0177.0.0.1/hook",  # octal, dotted
    "http://0x7f000001/hook",  # hexadecimal
    "http://0x7f.0x0.0x0.0x1/hook",
    "http://127.0.0.1./hook",  # trailing dot
    "http://[::1]/hook",
    "http://[::ffff:127.0.0.1]/hook",  # IPv4-mapped IPv6
    "http://[::ffff:7f00:1]/hook",
    "http://[::127.0.0.1]/hook",  # IPv4-compatible IPv6
    "http://[2002:7f00:1::]/hook",  # 6to4 of 127.0.0.1
    "http://[64:ff9b::7f00:1]/hook",  # NAT64 of 127.0.0.1
    # names that resolve to loopback
    "http://localhost/hook",
    "http://LOCALHOST./hook",
    "http://localhost:9000@127.0.0.1/hook",  # credentials trick
    # private, link-local, unspecified, CGNAT, metadata
    "http://10.0.0.5/hook",
    "http://10.1/hook",
    "http://172.16.0.1/hook",
    "http://192.168.1.1/hook",
    "http://[fd00::1]/hook",
    "http://[::ffff:10.0.0.1]/hook",
    "http://[fe80::1%25eth0]/hook",
    "http://0.0.0.0/hook",
    "http://0/hook",
    "http://[::]/hook",
    "http://100.64.0.1/hook",
    "http://169.254.169.254/latest/meta-data/",
    "http://[::ffff:169.254.169.254]/latest/meta-data/",
    "http://[fd00:ec2::254]/latest/meta-data/",
    "http://metadata.google.internal/computeMetadata/v1/",
    # other schemes
    "file:///etc/passwd",
    "gopher://127.0.0.1:6379/_INFO",
    "ftp://example.com/hook",
]


async def test_internal_targets_are_refused_at_registration(make_api: ApiFactory) -> None:
    async with make_api(webhook_allowlist=[]) as api:
        for url in INTERNAL_URLS:
            response = await api.client.post(
                "/webhooks", json={"url": url, "events": ["query.completed"]}, headers=api.admin
            )
            assert response.status_code == 422, (url, response.text)
            assert response.json()["error"] in {"unsafe_webhook_url", "validation_error"}, url
        listed = await api.client.get("/webhooks", headers=api.admin)
        assert listed.json() == []


class _Server:
    def __init__(self, host: str, handler: type[BaseHTTPRequestHandler]) -> None:
        self.httpd = ThreadingHTTPServer((host, 0), handler)
        self.url = f"http://{host}:{self.httpd.server_port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def internal_service() -> Iterator[tuple[_Server, list[str]]]:
    """Something on 127.0.0.2 (not allow-listed) that must never be reached."""
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self._hit()

        def do_POST(self) -> None:
            self._hit()

        def _hit(self) -> None:
            hits.append(self.path)
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = _Server("127.0.0.2", Handler)
    yield server, hits
    server.close()


async def test_redirects_to_internal_addresses_are_not_followed(
    make_api: ApiFactory, internal_service: tuple[_Server, list[str]]
) -> None:
    internal, internal_hits = internal_service
    attempts: list[str] = []

    class Redirector(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            attempts.append(self.path)
            self.send_response(307)
            self.send_header("Location", f"{internal.url}/admin")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    redirector = _Server("127.0.0.1", Redirector)
    try:
        async with make_api(webhook_allowlist=["127.0.0.1/32"], webhook_max_attempts=2) as api:
            response = await api.client.post(
                "/webhooks",
                json={"url": f"{redirector.url}/hook", "events": ["query.completed"]},
                headers=api.admin,
            )
            assert response.status_code == 201, response.text
            await api.client.post("/query", json={"query": "anything at all"}, headers=api.svc)
            dropped = api.services.metrics.webhook_deliveries.labels("query.completed", "dropped")
            deadline = time.monotonic() + 30
            while dropped._value.get() < 1:
                assert time.monotonic() < deadline, "the delivery was neither retried nor dropped"
                await asyncio.sleep(0.05)
        assert len(attempts) == 2  # each attempt stopped at the redirect...
        assert internal_hits == []  # ...and nothing ever reached the internal address
    finally:
        redirector.close()


class _RebindingGuard(URLGuard):
    """The real guard, with DNS answers scripted per lookup (what a rebinding server does)."""

    def __init__(self, allowlist: list[str], answers: list[str]) -> None:
        super().__init__(allowlist)
        self.answers = answers
        self.lookups = 0

    async def _resolve(self, host: str, port: int) -> list[IPAddress]:
        answer = self.answers[min(self.lookups, len(self.answers) - 1)]
        self.lookups += 1
        return await super()._resolve(answer, port)


async def test_a_name_rebound_to_an_internal_address_after_the_check_is_not_connected_to(
    internal_service: tuple[_Server, list[str]],
) -> None:
    internal, internal_hits = internal_service
    port = internal.httpd.server_port
    # Public at the delivery's check, the internal service's address at connection time.
    guard = _RebindingGuard([], answers=["93.184.216.34", "127.0.0.2"])
    url = f"http://rebind.example:{port}/hook"
    await guard.check(url)

    async with httpx.AsyncClient(transport=PinnedTransport(guard), timeout=5) as client:
        with pytest.raises(httpx.ConnectError, match=r"127\.0\.0\.2, a loopback address"):
            await client.post(url, content=b"{}")

    assert internal_hits == []


async def test_pinned_connections_reach_an_allowed_receiver_under_its_own_name(
    internal_service: tuple[_Server, list[str]],
) -> None:
    internal, internal_hits = internal_service
    port = internal.httpd.server_port
    guard = _RebindingGuard(["127.0.0.2/32"], answers=["127.0.0.2"])

    async with httpx.AsyncClient(transport=PinnedTransport(guard), timeout=5) as client:
        response = await client.post(f"http://receiver.example:{port}/hook", content=b"{}")

    assert response.status_code == 204
    assert response.request.headers["Host"] == f"receiver.example:{port}"
    assert internal_hits == ["/hook"]
