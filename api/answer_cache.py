"""Cache of answers, keyed by the normalized request and the index version.

The key is a SHA-256 of the query (whitespace collapsed, case folded) and every option that
changes the answer (max_results, threshold, mode, filters, use_guardrails), prefixed by
the index version read from the storage tier on each lookup
(`RAGSystem.acurrent_index_version`: one read of the Chroma collection's metadata, about
1 ms; `bench/index_version_read.py`). Any ingestion or deletion on any replica changes the
index version, so every earlier entry stops matching at once — no scan or explicit purge is
needed, and stale entries age out by TTL. Requests with a `conversation_id` are never
cached (their answer depends on the conversation), nor are queries the input guardrails
refuse: the rules judge every query before the cache is consulted. In Redis the cache is
shared by all replicas; otherwise it is a bounded in-process LRU.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any, Protocol

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

log = structlog.get_logger("api.answer_cache")


def normalize_query(query: str) -> str:
    """The form of a query two requests must share to share an answer."""
    return " ".join(query.split()).casefold()


def cache_key(index_version: str, query: str, options: Mapping[str, Any]) -> str:
    """The cache key of a request against one version of the index."""
    material = json.dumps(
        {"q": normalize_query(query), "o": options},
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return f"{index_version}:{hashlib.sha256(material.encode()).hexdigest()}"


class AnswerCache(Protocol):
    """Stores serialised answers for a limited time."""

    async def get(self, key: str) -> dict[str, Any] | None:
        """The cached answer, or None."""
        ...

    async def put(self, key: str, value: dict[str, Any]) -> None:
        """Remember an answer."""
        ...


class InProcessAnswerCache:
    """Bounded LRU with a TTL, in this process."""

    def __init__(self, ttl_seconds: float, max_entries: int) -> None:
        self._ttl = ttl_seconds
        self._max = max_entries
        self._items: OrderedDict[str, tuple[float, dict[str, Any]]] = OrderedDict()

    async def get(self, key: str) -> dict[str, Any] | None:
        """The cached answer, or None when absent or expired."""
        item = self._items.get(key)
        if item is None:
            return None
        if item[0] < time.monotonic():
            del self._items[key]
            return None
        self._items.move_to_end(key)
        return item[1]

    async def put(self, key: str, value: dict[str, Any]) -> None:
        """Remember an answer, evicting the least recently used beyond the bound."""
        self._items[key] = (time.monotonic() + self._ttl, value)
        self._items.move_to_end(key)
        while len(self._items) > self._max:
            self._items.popitem(last=False)


class RedisAnswerCache:
    """Shared cache in Redis; a Redis failure is a cache miss, never a failed request."""

    def __init__(self, redis: Redis[str], prefix: str, ttl_seconds: int) -> None:
        self._redis = redis
        self._prefix = f"{prefix}:answers:"
        self._ttl = ttl_seconds

    async def get(self, key: str) -> dict[str, Any] | None:
        """The cached answer, or None."""
        try:
            raw = await self._redis.get(self._prefix + key)
        except (RedisError, OSError) as exc:
            log.warning("answer_cache_unavailable", error=str(exc))
            return None
        if raw is None:
            return None
        value: dict[str, Any] = json.loads(raw)
        return value

    async def put(self, key: str, value: dict[str, Any]) -> None:
        """Remember an answer for the TTL."""
        try:
            await self._redis.set(self._prefix + key, json.dumps(value), ex=self._ttl)
        except (RedisError, OSError) as exc:
            log.warning("answer_cache_unavailable", error=str(exc))


class DisabledAnswerCache:
    """ANSWER_CACHE_TTL_SECONDS=0: remembers nothing."""

    async def get(self, key: str) -> dict[str, Any] | None:
        """Always a miss."""
        return None

    async def put(self, key: str, value: dict[str, Any]) -> None:
        """Forget at once."""
