"""Sliding-window rate limits per caller, shared by all replicas when Redis is configured.

The window is a sliding log: each admitted request is one entry stamped with its time; a
request is admitted when fewer than `limit` entries lie inside the last `window` seconds.
In Redis the check-and-add is one Lua script, so concurrent replicas can never admit more
than `limit` between them. Without Redis the same algorithm runs in process (one limit per
worker process, which is what a single embedded server needs).

When Redis cannot be reached the limiter follows RATE_LIMIT_ON_REDIS_ERROR: `open` admits
the request (an outage of the limiter must not become an outage of the API) and `closed`
refuses it with 503 (for deployments where the limit protects a paid upstream).
"""

from __future__ import annotations

import asyncio
import ipaddress
import math
import time
import uuid
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

log = structlog.get_logger("api.rate_limit")


@dataclass(frozen=True)
class Decision:
    """The limiter's answer for one request, and the header values it implies."""

    allowed: bool
    limit: int
    remaining: int
    reset_seconds: int  # until the oldest counted request leaves the window
    retry_after: int  # seconds to wait before a retry can succeed (0 when allowed)

    def headers(self) -> dict[str, str]:
        """X-RateLimit-* (and Retry-After when refused)."""
        out = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset_seconds),
        }
        if not self.allowed:
            out["Retry-After"] = str(max(1, self.retry_after))
        return out


class LimiterUnavailable(Exception):
    """The shared limiter could not be consulted and the policy is fail-closed."""


class RateLimiter(Protocol):
    """Admits or refuses one request of `identity`."""

    async def hit(self, identity: str) -> Decision:
        """Count a request of `identity` if it fits the window."""
        ...


class InProcessRateLimiter:
    """Sliding-log limiter in this process's memory."""

    def __init__(self, limit: int, window_seconds: float, max_identities: int = 100_000) -> None:
        self.limit = limit
        self.window = window_seconds
        self._max_identities = max_identities
        self._logs: dict[str, deque[float]] = {}
        self._lock = asyncio.Lock()

    async def hit(self, identity: str) -> Decision:
        """Count a request of `identity` if it fits the window."""
        now = time.monotonic()
        entries = self._logs.get(identity)
        if entries is None:
            if len(self._logs) >= self._max_identities:
                self._evict(now)
            entries = self._logs.setdefault(identity, deque())
        horizon = now - self.window
        while entries and entries[0] <= horizon:
            entries.popleft()
        allowed = len(entries) < self.limit
        if allowed:
            entries.append(now)
        oldest = entries[0] if entries else now
        reset = max(0.0, oldest + self.window - now)
        return Decision(
            allowed=allowed,
            limit=self.limit,
            remaining=max(0, self.limit - len(entries)),
            reset_seconds=math.ceil(reset),
            retry_after=0 if allowed else math.ceil(reset),
        )

    def _evict(self, now: float) -> None:
        horizon = now - self.window
        for key in [k for k, v in self._logs.items() if not v or v[-1] <= horizon]:
            del self._logs[key]


# KEYS[1] = the identity's log; ARGV = window_ms, limit, unique member.
# Returns {allowed (0/1), count after the call, age of the oldest entry in ms}.
# The clock is the Redis server's, so replicas with skewed clocks still share one window.
_SLIDING_WINDOW_LUA = """
local key = KEYS[1]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
local count = redis.call('ZCARD', key)
local allowed = 0
if count < limit then
  redis.call('ZADD', key, now, ARGV[3])
  count = count + 1
  allowed = 1
end
redis.call('PEXPIRE', key, window)
local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
local oldest_score = now
if oldest[2] then oldest_score = tonumber(oldest[2]) end
return {allowed, count, now - oldest_score}
"""


class RedisRateLimiter:
    """Sliding-log limiter in Redis, atomic across every replica that shares the server."""

    def __init__(
        self,
        redis: Redis[str],
        limit: int,
        window_seconds: float,
        *,
        prefix: str,
        fail_open: bool,
    ) -> None:
        self.limit = limit
        self.window = window_seconds
        self._redis = redis
        self._prefix = prefix
        self._fail_open = fail_open
        self._script = redis.register_script(_SLIDING_WINDOW_LUA)

    async def hit(self, identity: str) -> Decision:
        """Count a request of `identity` if it fits the window."""
        window_ms = int(self.window * 1000)
        try:
            allowed, count, oldest_age = await self._script(
                keys=[f"{self._prefix}:ratelimit:{identity}"],
                args=[window_ms, self.limit, uuid.uuid4().hex],
            )
        except (RedisError, OSError) as exc:
            log.warning("rate_limiter_unavailable", error=str(exc), fail_open=self._fail_open)
            if self._fail_open:
                return Decision(True, self.limit, self.limit, math.ceil(self.window), 0)
            raise LimiterUnavailable(str(exc)) from exc
        reset = max(0, window_ms - int(oldest_age)) / 1000
        return Decision(
            allowed=bool(allowed),
            limit=self.limit,
            remaining=max(0, self.limit - int(count)),
            reset_seconds=math.ceil(reset),
            retry_after=0 if allowed else max(1, math.ceil(reset)),
        )


class ClientAddressResolver:
    """The client's IP address, believing X-Forwarded-For only from trusted proxies.

    Walking X-Forwarded-For from the right, every hop that is itself a trusted proxy is
    skipped; the first untrusted address is the client. A client cannot forge its way past
    this: whatever it puts at the left of the header is never reached while an untrusted
    hop stands to its right.
    """

    def __init__(self, trusted_proxies: Sequence[str]) -> None:
        self._trusted = [ipaddress.ip_network(p, strict=False) for p in trusted_proxies]

    def _is_trusted(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in net for net in self._trusted)

    def client_ip(self, peer: str | None, forwarded_for: str | None) -> str:
        """The address the rate limit counts for this request."""
        peer = peer or "unknown"
        if not forwarded_for or not self._is_trusted(peer):
            return peer
        hops = [h.strip() for h in forwarded_for.split(",") if h.strip()]
        for hop in reversed(hops):
            if not self._is_trusted(hop):
                return hop
        return hops[0] if hops else peer
