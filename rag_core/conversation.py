"""Conversation memory: the last N (question, answer) turns of each conversation.

Redis when a URL is configured (shared by every replica, expiring with a TTL), otherwise an
in-process LRU whose entries also expire. Memory is a nicety, not a dependency: while Redis
cannot be reached a conversation is answered without its history and the turn is not kept,
with a warning in the log.

A conversation belongs to its caller: the memory is keyed by `conversation_key(caller, id)`,
so another caller sending the same `conversation_id` starts a conversation of its own and
never reads, nor adds to, someone else's history.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections import OrderedDict
from typing import Any, Protocol

Turn = tuple[str, str]
logger = logging.getLogger(__name__)


def conversation_key(caller: str | None, conversation_id: str) -> str:
    """The memory key of one caller's conversation (`caller` None: the anonymous caller).

    The caller's identity is hashed to a fixed width: no user name appears in Redis, and no
    choice of `conversation_id` can name a key in another caller's part of the keyspace.
    """
    owner = hashlib.sha256((caller or "").encode()).hexdigest()[:32]
    return f"{owner}:{conversation_id}"


class ConversationMemory(Protocol):
    """Turns by conversation; `key` is a `conversation_key`."""

    async def history(self, key: str) -> list[Turn]: ...

    async def remember(self, key: str, question: str, answer: str) -> None: ...

    async def aclose(self) -> None: ...


class InProcessMemory:
    """LRU of conversations with a TTL; the least recently used one goes first when full."""

    def __init__(self, turns: int = 5, ttl_seconds: float = 3600.0, max_sessions: int = 10_000):
        self._turns = turns
        self._ttl = ttl_seconds
        self._max_sessions = max_sessions
        self._sessions: OrderedDict[str, tuple[float, list[Turn]]] = OrderedDict()

    async def history(self, key: str) -> list[Turn]:
        entry = self._sessions.get(key)
        if entry is None:
            return []
        stored_at, turns = entry
        if time.monotonic() - stored_at > self._ttl:
            del self._sessions[key]
            return []
        self._sessions.move_to_end(key)
        return list(turns)

    async def remember(self, key: str, question: str, answer: str) -> None:
        turns = await self.history(key)
        turns = [*turns, (question, answer)][-self._turns :]
        self._sessions[key] = (time.monotonic(), turns)
        self._sessions.move_to_end(key)
        while len(self._sessions) > self._max_sessions:
            self._sessions.popitem(last=False)

    async def aclose(self) -> None:
        self._sessions.clear()


class RedisMemory:
    """Turns kept in a Redis list per conversation, trimmed to N and expiring after the TTL."""

    def __init__(self, url: str, turns: int = 5, ttl_seconds: float = 3600.0) -> None:
        from rag_core.redis_client import redis_client

        self._redis: Any = redis_client(url)
        self._turns = turns
        self._ttl = max(1, int(ttl_seconds))

    @staticmethod
    def _key(key: str) -> str:
        return f"ragkube:conversation:{key}"

    async def history(self, key: str) -> list[Turn]:
        """The stored turns; none while Redis cannot be reached."""
        from redis.exceptions import RedisError

        try:
            raw = await self._redis.lrange(self._key(key), 0, -1)
        except RedisError as error:
            logger.warning("Conversation memory unavailable; answering without history: %s", error)
            return []
        return [(turn["q"], turn["a"]) for turn in map(json.loads, raw)]

    async def remember(self, key: str, question: str, answer: str) -> None:
        """Keep a turn; while Redis cannot be reached the turn is dropped."""
        from redis.exceptions import RedisError

        name = self._key(key)
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.rpush(name, json.dumps({"q": question, "a": answer}))
                pipe.ltrim(name, -self._turns, -1)
                pipe.expire(name, self._ttl)
                await pipe.execute()
        except RedisError as error:
            logger.warning("Conversation memory unavailable; turn not kept: %s", error)

    async def ping(self) -> bool:
        return bool(await self._redis.ping())

    async def aclose(self) -> None:
        await self._redis.aclose()
