"""Conversation memory in real Redis: shared across systems, trimmed, used for follow-ups."""

from __future__ import annotations

import logging
import time
import uuid
from pathlib import Path

import pytest

from rag_core import RagSettings, RAGSystem
from rag_core.conversation import InProcessMemory, RedisMemory
from rag_core.samples import sample_documents
from tests.support.services import ChromaServer, IndexServer, redis_server


async def test_redis_memory_keeps_the_last_turns_in_order(redis_url: str) -> None:
    memory = RedisMemory(redis_url, turns=2, ttl_seconds=60)
    conversation = uuid.uuid4().hex
    try:
        for n in range(3):
            await memory.remember(conversation, f"q{n}", f"a{n}")
        assert await memory.history(conversation) == [("q1", "a1"), ("q2", "a2")]
        assert await memory.history("never-seen") == []
    finally:
        await memory.aclose()


async def test_in_process_memory_forgets_after_its_ttl_and_evicts_the_oldest() -> None:
    memory = InProcessMemory(turns=3, ttl_seconds=0.0, max_sessions=1)
    await memory.remember("a", "q", "a")
    assert await memory.history("a") == []
    lasting = InProcessMemory(turns=3, ttl_seconds=60, max_sessions=1)
    await lasting.remember("a", "q", "a")
    await lasting.remember("b", "q", "a")
    assert await lasting.history("a") == []
    assert await lasting.history("b") == [("q", "a")]


async def test_a_follow_up_on_another_replica_uses_the_shared_history(
    tmp_path: Path, redis_url: str, chroma_server: ChromaServer, index_server: IndexServer
) -> None:
    # Two replicas as a cluster runs them: one Chroma server and one index server shared.
    settings = RagSettings(
        data_dir=tmp_path,
        redis_url=redis_url,
        chroma_host=chroma_server.host,
        chroma_port=chroma_server.port,
        collection_name=f"t{uuid.uuid4().hex[:12]}",
        lexical_index_url=index_server.url,
        lexical_index_token=index_server.token,
    )
    first, second = RAGSystem(settings), RAGSystem(settings)
    await first.astart()
    await second.astart()
    try:
        await first.aingest(sample_documents())
        conversation = uuid.uuid4().hex
        await first.aquery("How are webhook deliveries signed?", conversation_id=conversation)
        follow_up = await second.aquery("and are they retried?", conversation_id=conversation)
        assert follow_up.standalone_query is not None
        assert "webhook" in follow_up.standalone_query
        assert follow_up.sources[0].metadata["document_id"] == "sample-webhooks"
    finally:
        await first.aclose()
        await second.aclose()


async def test_a_conversation_is_answered_without_history_while_redis_is_down(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "redis").mkdir()
    with redis_server(tmp_path / "redis") as redis:
        rag = RAGSystem(RagSettings(data_dir=tmp_path / "data", redis_url=redis.url))
        await rag.astart()
        try:
            await rag.aingest(sample_documents())
            await rag.aquery("How are webhook deliveries signed?", conversation_id="c")
            redis.stop()
            started = time.monotonic()
            with caplog.at_level(logging.WARNING, logger="rag_core.conversation"):
                answer = await rag.aquery("and are webhooks retried?", conversation_id="c")
            assert time.monotonic() - started < 10
            # Answered, with no history to lean on: the question is used as it was asked.
            assert answer.standalone_query == "and are webhooks retried?"
            assert answer.sources[0].metadata["document_id"] == "sample-webhooks"
            assert "Conversation memory unavailable" in caplog.text

            redis.restart()  # same data: the turns kept before the outage are back
            follow_up = await rag.aquery("and are they retried?", conversation_id="c")
            assert follow_up.standalone_query is not None
            assert "webhook" in follow_up.standalone_query
        finally:
            await rag.aclose()
