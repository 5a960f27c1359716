"""The in-process sliding window and the client-address rule."""

from __future__ import annotations

import asyncio

from api.rate_limit import ClientAddressResolver, InProcessRateLimiter


async def test_admits_up_to_the_limit_then_refuses_with_retry_after() -> None:
    limiter = InProcessRateLimiter(limit=3, window_seconds=60)
    decisions = [await limiter.hit("user:a") for _ in range(4)]
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert [d.remaining for d in decisions] == [2, 1, 0, 0]
    refused = decisions[-1].headers()
    assert refused["X-RateLimit-Limit"] == "3"
    assert 1 <= int(refused["Retry-After"]) <= 60


async def test_identities_have_separate_windows() -> None:
    limiter = InProcessRateLimiter(limit=1, window_seconds=60)
    assert (await limiter.hit("ip:1.1.1.1")).allowed
    assert (await limiter.hit("ip:2.2.2.2")).allowed
    assert not (await limiter.hit("ip:1.1.1.1")).allowed


async def test_window_slides() -> None:
    limiter = InProcessRateLimiter(limit=1, window_seconds=0.2)
    assert (await limiter.hit("k")).allowed
    assert not (await limiter.hit("k")).allowed
    await asyncio.sleep(0.25)
    assert (await limiter.hit("k")).allowed


def test_forwarded_for_is_ignored_from_untrusted_peers() -> None:
    resolver = ClientAddressResolver(["10.0.0.0/8"])
    assert resolver.client_ip("203.0.113.9", "1.2.3.4") == "203.0.113.9"


def test_forwarded_for_is_followed_through_trusted_proxies_only() -> None:
    resolver = ClientAddressResolver(["10.0.0.0/8"])
    # The client forged "6.6.6.6"; the first untrusted hop from the right is the real client.
    assert resolver.client_ip("10.0.0.2", "6.6.6.6, 198.51.100.7, 10.0.0.5") == "198.51.100.7"


def test_without_trusted_proxies_the_peer_is_the_client() -> None:
    assert ClientAddressResolver([]).client_ip("127.0.0.1", "9.9.9.9") == "127.0.0.1"
