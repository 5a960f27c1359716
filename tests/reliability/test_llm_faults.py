"""The LLM provider slow, failing (500), rate limiting (429) and timing out.

A stand-in OpenAI-compatible server on loopback is driven by the real openai client inside
rag_core. Each failure ends in a clear envelope within a bounded time, the stream reports it
as an `error` event, and the service answers normally as soon as the provider recovers.

Bounds: LLM_TIMEOUT_SECONDS applies to each attempt and rag_core retries twice (the openai
client's backoff, or the provider's Retry-After when it sends one), so the worst case of one
request is about 3 x timeout + backoff. RELIABILITY.md records this.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest

from tests.support.api_harness import Api, ApiFactory
from tests.support.llm_stand_in import StandInLLM, running_stand_in

TIMEOUT = 1.0
#: Three attempts of TIMEOUT each plus the client's backoff, with room for a loaded machine.
BOUND_SECONDS = 3 * TIMEOUT + 12


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
        assert len(llm.requests) == 3  # one attempt and two retries, no more

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
