"""The one way this code base connects to Redis (the API's limiter, cache and webhook queue,
and conversation memory).

Every call is bounded: without a socket timeout a hung Redis (accepting connections, never
answering) held every rate-limited request for ever. A command whose connection failed is
retried once on a fresh connection: after a Redis restart every pooled connection is stale,
and the first command on each would fail (a webhook job claimed just then stayed hidden for
its whole lease). Timeouts are not retried, which would only double the wait on a hung server.
"""

from __future__ import annotations

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError

#: Bound on each Redis call, so an unreachable or frozen Redis costs a request little time.
REDIS_TIMEOUT_SECONDS = 2.0


def redis_client(url: str) -> Redis[str]:
    """A client for `url` with text replies, bounded calls and one retry on a failed connection."""
    return Redis.from_url(
        url,
        decode_responses=True,
        socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
        socket_timeout=REDIS_TIMEOUT_SECONDS,
        retry=Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,)),
    )
