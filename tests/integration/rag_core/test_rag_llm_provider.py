"""The OpenAI-compatible providers through the real openai client against a stand-in server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest

from rag_core import LLMRateLimited, LLMTimeout, LLMUnavailable, RagSettings, RAGSystem
from rag_core.answers import Source
from rag_core.embeddings import OpenAICompatibleEmbedder
from rag_core.generation import OpenAICompatibleGenerator
from rag_core.samples import sample_documents
from tests.integration.rag_core.rag_llm_stand_in import StandInLLM

SOURCES = [
    Source("Webhook deliveries are signed with HMAC-SHA256.", 0.7, {"title": "Webhooks"}),
    Source("Failed deliveries are retried with backoff.", 0.6, {"title": "Webhooks"}),
]


def generator(llm: StandInLLM, timeout: float = 5.0) -> OpenAICompatibleGenerator:
    return OpenAICompatibleGenerator(
        "stand-in-model", llm.base_url, "sk-test", timeout_seconds=timeout, max_retries=0
    )


@pytest.fixture
async def llm_system(tmp_path: Path, stand_in_llm: StandInLLM) -> AsyncIterator[RAGSystem]:
    rag = RAGSystem(
        RagSettings(
            data_dir=tmp_path,
            llm_provider="openai-compatible",
            llm_model="stand-in-model",
            llm_base_url=stand_in_llm.base_url,
            llm_api_key="sk-test",
            llm_timeout_seconds=1.0,
            llm_max_retries=0,
            llm_fallback_to_extractive=False,  # these tests look at the errors themselves
        )
    )
    await rag.astart()
    await rag.aingest(sample_documents())
    yield rag
    await rag.aclose()


@pytest.fixture
async def fallback_system(tmp_path: Path, stand_in_llm: StandInLLM) -> AsyncIterator[RAGSystem]:
    """The defaults: two retries and the extractive fallback, within a 2.5 s budget."""
    rag = RAGSystem(
        RagSettings(
            data_dir=tmp_path,
            llm_provider="openai-compatible",
            llm_base_url=stand_in_llm.base_url,
            llm_api_key="sk-test",
            llm_timeout_seconds=2.5,
        )
    )
    await rag.astart()
    await rag.aingest(sample_documents())
    yield rag
    await rag.aclose()


async def test_the_prompt_numbers_sources_and_demands_citations(stand_in_llm: StandInLLM) -> None:
    llm = generator(stand_in_llm)
    answer = await llm.agenerate("How are deliveries signed?", SOURCES)
    await llm.aclose()
    assert (
        answer == "According to the documents, Webhook deliveries are signed with HMAC-SHA256. [1]"
    )
    request = stand_in_llm.requests[0]
    assert request["auth"] == "Bearer sk-test"
    assert request["body"]["model"] == "stand-in-model"
    system, user = request["body"]["messages"]
    assert "[1]" in system["content"]
    assert "[1] Webhooks\nWebhook deliveries are signed" in user["content"]
    assert "[2] Webhooks\nFailed deliveries" in user["content"]


async def test_a_query_through_the_model_is_grounded_and_confident(
    llm_system: RAGSystem, stand_in_llm: StandInLLM
) -> None:
    result = await llm_system.aquery("How are webhook deliveries signed?")
    assert result.answer.startswith("According to the documents,")
    assert result.answer.endswith("[1]")
    assert "ungrounded_answer" not in result.guardrails_triggered
    assert result.confidence > 0.5
    assert len(stand_in_llm.requests) == 1


async def test_streaming_yields_the_models_tokens_in_order(
    llm_system: RAGSystem, stand_in_llm: StandInLLM
) -> None:
    events = [e async for e in llm_system.astream("How are webhook deliveries signed?")]
    tokens = [e.data["text"] for e in events if e.type == "token"]
    assert len(tokens) > 3
    assert "".join(tokens) == events[-1].data["answer"]
    assert stand_in_llm.requests[0]["body"]["stream"] is True


async def test_a_slow_model_raises_llm_timeout(
    llm_system: RAGSystem, stand_in_llm: StandInLLM
) -> None:
    stand_in_llm.behaviour = "slow"
    stand_in_llm.delay_seconds = 3.0
    with pytest.raises(LLMTimeout):
        await llm_system.aquery("How are webhook deliveries signed?")


async def test_a_rate_limited_model_raises_with_retry_after(stand_in_llm: StandInLLM) -> None:
    stand_in_llm.behaviour = "rate_limited"
    llm = generator(stand_in_llm)
    with pytest.raises(LLMRateLimited) as caught:
        await llm.agenerate("question", SOURCES)
    await llm.aclose()
    assert caught.value.retry_after == 7.0


async def test_a_failing_model_raises_llm_unavailable(stand_in_llm: StandInLLM) -> None:
    stand_in_llm.behaviour = "error"
    llm = generator(stand_in_llm)
    with pytest.raises(LLMUnavailable, match="500"):
        await llm.agenerate("question", SOURCES)
    with pytest.raises(LLMUnavailable, match="500"):
        _ = [token async for token in llm.astream("question", SOURCES)]
    await llm.aclose()


async def test_retries_are_made_by_the_client(stand_in_llm: StandInLLM) -> None:
    stand_in_llm.behaviour = "error"
    llm = OpenAICompatibleGenerator("m", stand_in_llm.base_url, "k", 5.0, max_retries=1)
    with pytest.raises(LLMUnavailable):
        await llm.agenerate("question", SOURCES)
    await llm.aclose()
    assert len(stand_in_llm.requests) == 2


async def test_the_model_condenses_follow_ups(
    llm_system: RAGSystem, stand_in_llm: StandInLLM
) -> None:
    await llm_system.aquery("How are webhook deliveries signed?", conversation_id="c")
    follow_up = await llm_system.aquery("are they retried?", conversation_id="c")
    assert follow_up.standalone_query == "How are webhook deliveries signed — are they retried?"


async def test_openai_compatible_embeddings_are_normalised(stand_in_llm: StandInLLM) -> None:
    embedder = OpenAICompatibleEmbedder("embed-model", stand_in_llm.base_url, "k", batch_size=2)
    vectors = embedder.embed(["a", "bb", "ccc"])
    assert vectors.shape == (3, 3)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0)
    assert embedder.dimension == 3
    assert len([r for r in stand_in_llm.requests if r["path"].endswith("/embeddings")]) == 2


@pytest.mark.parametrize(
    ("behaviour", "retry_after", "attempts"),
    [
        ("error", "", 3),  # fast 500s: backoffs of ~0.5 s and ~1 s fit in the budget
        ("slow", "", 1),  # the first attempt (3 s) uses the whole budget
        ("rate_limited", "1", 3),  # two waits of 1 s fit
        ("rate_limited", "60", 1),  # more than MAX_RETRY_AFTER_SECONDS: no retry at all
    ],
)
async def test_a_failing_model_falls_back_to_an_extractive_answer_within_the_budget(
    fallback_system: RAGSystem,
    stand_in_llm: StandInLLM,
    behaviour: str,
    retry_after: str,
    attempts: int,
) -> None:
    stand_in_llm.behaviour = behaviour
    stand_in_llm.retry_after = retry_after
    result = await fallback_system.aquery("How are webhook deliveries signed?")
    assert "llm_fallback" in result.guardrails_triggered
    assert not result.answer.startswith("According to the documents")
    assert "HMAC" in result.answer
    assert result.timings["generate"] < 2.5 + 0.5
    assert len(stand_in_llm.requests) == attempts


async def test_a_model_that_fails_mid_conversation_still_condenses_and_answers(
    fallback_system: RAGSystem, stand_in_llm: StandInLLM
) -> None:
    await fallback_system.aquery("How are webhook deliveries signed?", conversation_id="c1")
    stand_in_llm.behaviour = "error"
    result = await fallback_system.aquery("And how are they retried?", conversation_id="c1")
    assert result.guardrails_triggered.count("llm_fallback") == 1
    assert result.standalone_query == "How are webhook deliveries signed? And how are they retried?"
