"""The LLM provider slow, failing (500), rate limiting (429) and timing out.

A stand-in OpenAI-compatible server on loopback is driven by the real openai client inside
rag_core. By default (LLM_FALLBACK_EXTRACTIVE=true) a failing model still gets the caller an
extractive answer flagged `llm_fallback`; with the fallback off, each failure ends in a clear
envelope, the stream reports it as an `error` event, and the service answers normally as soon
as the provider recovers.

Bounds: LLM_TIMEOUT_SECONDS covers the whole model call, retries and waits included; rag_core
retries at most twice, only while the budget lasts, and honours a Retry-After of at most 2 s.
RELIABILITY.md records this.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator

import pytest

from tests.support.api_harness import Api, ApiFactory
from tests.support.llm_stand_in import StandInLLM, running_stand_in

TIMEOUT = 1.0
#: The whole model call fits in TIMEOUT; the rest is retrieval, with room for a loaded machine.
BOUND_SECONDS = TIMEOUT + 8
BEHAVIOURS = ("slow", "error", "rate_limited")


@pytest.fixture
def llm() -> Iterator[StandInLLM]:
    with running_stand_in() as stand_in:
        stand_in.retry_after = "1"
        yield stand_in


async def _ask(api: Api, question: str = "What does a Deployment keep running?") -> tuple:  # type: ignore[type-arg]
    started = time.monotonic()
    response = await api.client.post("/query", json={"query": question}, headers=api.svc)
    return response, time.monotonic() - started


@pytest.mark.parametrize(
    ("behaviour", "status", "error"),
    [
        ("slow", 504, "llm_timeout"),
        ("error", 502, "llm_unavailable"),
        ("rate_limited", 503, "llm_rate_limited"),
    ],
)
async def test_provider_failures_end_in_a_clear_error_within_the_bound(
    make_api: ApiFactory, llm: StandInLLM, behaviour: str, status: int, error: str
) -> None:
    async with make_api(
        llm_provider="openai-compatible",
        llm_base_url=llm.base_url,
        openai_api_key="sk-test",
        llm_timeout_seconds=TIMEOUT,
        llm_fallback_extractive=False,
        answer_cache_ttl_seconds=0,
    ) as api:
        await api.ingest_corpus()
        llm.behaviour = behaviour
        response, seconds = await _ask(api)
        assert response.status_code == status, response.text
        body = response.json()
        assert body["error"] == error
        assert body["request_id"] == response.headers["X-Request-ID"]
        assert seconds < BOUND_SECONDS
        if behaviour == "rate_limited":
            assert int(response.headers["Retry-After"]) >= 1
        # Retries only while the budget lasts: a slow attempt uses all of it, a Retry-After
        # of 1 s does not fit in what is left, a fast 500 leaves room for one backoff.
        assert len(llm.requests) == {"slow": 1, "error": 2, "rate_limited": 1}[behaviour]

        # The stream says the same thing as an `error` event after the sources.
        llm.requests.clear()
        started = time.monotonic()
        async with api.client.stream(
            "POST", "/query/stream", json={"query": "What is Chroma?"}, headers=api.svc
        ) as stream:
            text = (await stream.aread()).decode()
        assert time.monotonic() - started < BOUND_SECONDS
        events = [block.split("\n", 1) for block in text.strip().split("\n\n")]
        assert events[0][0] == "event: sources"
        assert events[-1][0] == "event: error"
        assert json.loads(events[-1][1].removeprefix("data: "))["error"] == error

        # The provider recovers: so does the service, with no restart.
        llm.behaviour = "ok"
        response, _ = await _ask(api, "What does a Deployment keep running now?")
        assert response.status_code == 200, response.text
        assert response.json()["answer"].startswith("According to the documents")


@pytest.mark.parametrize("behaviour", BEHAVIOURS)
async def test_a_failing_provider_falls_back_to_an_extractive_answer_within_the_bound(
    make_api: ApiFactory, llm: StandInLLM, behaviour: str
) -> None:
    async with make_api(
        llm_provider="openai-compatible",
        llm_base_url=llm.base_url,
        openai_api_key="sk-test",
        llm_timeout_seconds=TIMEOUT,
        answer_cache_ttl_seconds=0,
    ) as api:
        await api.ingest_corpus()
        llm.behaviour = behaviour
        response, seconds = await _ask(api)
        assert response.status_code == 200, response.text
        body = response.json()
        assert "llm_fallback" in body["guardrails_triggered"]
        assert body["sources"]
        assert re.search(r"\[\d+\]", body["answer"])  # an extractive answer cites its sources
        assert not body["answer"].startswith("According to the documents")  # not the model's
        assert seconds < BOUND_SECONDS

        # The stream falls back the same way: tokens, then a final event naming it.
        async with api.client.stream(
            "POST", "/query/stream", json={"query": "What is Chroma?"}, headers=api.svc
        ) as stream:
            text = (await stream.aread()).decode()
        events = [block.split("\n", 1) for block in text.strip().split("\n\n")]
        assert [e[0] for e in events[:2]] == ["event: sources", "event: token"]
        assert events[-1][0] == "event: final"
        final = json.loads(events[-1][1].removeprefix("data: "))
        assert "llm_fallback" in final["guardrails_triggered"]

        llm.behaviour = "ok"
        response, _ = await _ask(api, "What does a Deployment keep running now?")
        assert response.json()["answer"].startswith("According to the documents")
        assert "llm_fallback" not in response.json()["guardrails_triggered"]


async def test_a_fallback_answer_is_not_cached_so_the_model_answers_once_it_recovers(
    make_api: ApiFactory, llm: StandInLLM
) -> None:
    async with make_api(
        llm_provider="openai-compatible",
        llm_base_url=llm.base_url,
        openai_api_key="sk-test",
        llm_timeout_seconds=TIMEOUT,
        answer_cache_ttl_seconds=300,
    ) as api:
        await api.ingest_corpus()
        llm.behaviour = "error"
        fallback, _ = await _ask(api)
        assert "llm_fallback" in fallback.json()["guardrails_triggered"]

        llm.behaviour = "ok"
        recovered, _ = await _ask(api)

        assert recovered.json()["answer"].startswith("According to the documents")
        assert "llm_fallback" not in recovered.json()["guardrails_triggered"]
