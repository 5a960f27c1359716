"""Conversation memory: the last N (question, answer) turns of each conversation.

Redis when a URL is configured (shared by every replica, expiring with a TTL), otherwise an
in-process LRU whose entries also expire. Memory is a nicety, not a dependency: while Redis
cannot be reached a conversation is answered without its history and the turn is not kept,
with a warning in the log.
"""

from __future__ import annotations

import json
import logging
import time
from collections import OrderedDict
from typing import Any, Protocol

Turn = tuple[str, str]
logger = logging.getLogger(__name__)


class ConversationMemory(Protocol):
    async def history(self, conversation_id: str) -> list[Turn]: ...

    async def remember(self, conversation_id: str, question: str, answer: str) -> None: ...

    async def aclose(self) -> None: ...


class InProcessMemory:
    """LRU of conversations with a TTL; the least recently used one goes first when full."""

    def __init__(self, turns: int = 5, ttl_seconds: float = 3600.0, max_sessions: int = 10_000):
        self._turns = turns
        self._ttl = ttl_seconds
        self._max_sessions = max_sessions
        self._sessions: OrderedDict[str, tuple[float, list[Turn]]] = OrderedDict()

    async def history(self, conversation_id: str) -> list[Turn]:
        entry = self._sessions.get(conversation_id)
        if entry is None:
            return []
        stored_at, turns = entry
        if time.monotonic() - stored_at > self._ttl:
            del self._sessions[conversation_id]
            return []
        self._sessions.move_to_end(conversation_id)
        return list(turns)

    async def remember(self, conversation_id: str, question: str, answer: str) -> None:
        turns = await self.history(conversation_id)
        turns = [*turns, (question, answer)][-self._turns :]
        self._sessions[conversation_id] = (time.monotonic(), turns)
        self._sessions.move_to_end(conversation_id)
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
    def _key(conversation_id: str) -> str:
        return f"ragkube:conversation:{conversation_id}"

    async def history(self, conversation_id: str) -> list[Turn]:
        """The stored turns; none while Redis cannot be reached."""
        from redis.exceptions import RedisError

        try:
            raw = await self._redis.lrange(self._key(conversation_id), 0, -1)
        except RedisError as error:
            logger.warning("Conversation memory unavailable; answering without history: %s", error)
            return []
        return [(turn["q"], turn["a"]) for turn in map(json.loads, raw)]

    async def remember(self, conversation_id: str, question: str, answer: str) -> None:
        """Keep a turn; while Redis cannot be reached the turn is dropped."""
        from redis.exceptions import RedisError

        key = self._key(conversation_id)
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.rpush(key, json.dumps({"q": question, "a": answer}))
                pipe.ltrim(key, -self._turns, -1)
                pipe.expire(key, self._ttl)
                await pipe.execute()
        except RedisError as error:
            logger.warning("Conversation memory unavailable; turn not kept: %s", error)

    async def ping(self) -> bool:
        return bool(await self._redis.ping())

    async def aclose(self) -> None:
        await self._redis.aclose()
