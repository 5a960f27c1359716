"""Every index knows what built it, and an API pod never mixes embedding spaces.

A real Chroma server and the session lexical index server hold one collection; the first app
ingests with the bundled model, later apps start on the same data with another configuration:
a second 384-dimension model behind an OpenAI-compatible stand-in, a 3-dimension one, another
chunking. Each must refuse to serve or write, and the data must stay as it was.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.api_harness import CORPUS, Api, ApiFactory
from tests.support.llm_stand_in import StandInLLM, running_stand_in


@pytest.fixture
def other_model() -> Iterator[StandInLLM]:
    """A second 384-dimension embedding model, served by an OpenAI-compatible stand-in."""
    with running_stand_in() as stand_in:
        stand_in.embedding_dimension = 384
        yield stand_in


def served_by(stand_in: StandInLLM, model: str) -> dict[str, Any]:
    return {
        "embeddings_provider": "openai-compatible",
        "embeddings_model": model,
        "llm_base_url": stand_in.base_url,
    }


async def stats(api: Api) -> dict[str, Any]:
    response = await api.client.get("/stats", headers=api.admin)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_stats_report_what_built_the_index_not_the_settings(make_api: ApiFactory) -> None:
    async with make_api() as api:
        assert (await stats(api))["index"] is None  # nothing written yet: nothing recorded
        await api.ingest_corpus()
        index = (await stats(api))["index"]

    assert index["embedding_provider"] == "local"
    assert index["embedding_model"] == "all-MiniLM-L6-v2"
    assert index["dimension"] == 384
    assert index["normalized"] is True
    assert (index["chunk_size"], index["chunk_overlap"]) == (
        api.settings.chunk_size,
        api.settings.chunk_overlap,
    )
    assert index["analyzer"]
    assert index["built_at"].endswith("+00:00")


async def test_another_model_of_the_same_dimension_is_refused_everywhere(
    make_api: ApiFactory, other_model: StandInLLM
) -> None:
    async with make_api() as api:
        await api.ingest_corpus()
        before = await stats(api)

    async with make_api(**served_by(other_model, "e5-small-stand-in")) as api:
        ready = await api.client.get("/ready")
        assert ready.status_code == 503, ready.text
        body = ready.json()
        assert body["details"]["checks"]["index"] is False
        assert "'all-MiniLM-L6-v2' (local" in body["message"]
        assert "'e5-small-stand-in' (openai-compatible" in body["message"]
        assert body["details"]["index"]["recorded"]["embedding_model"] == "all-MiniLM-L6-v2"
        assert body["details"]["index"]["configured"]["embedding_model"] == "e5-small-stand-in"

        question = {"query": "What does Chroma store?"}
        refusals = [
            await api.client.post("/query", json=question, headers=api.svc),
            await api.client.post("/query", json={**question, "mode": "lexical"}, headers=api.svc),
            await api.client.post("/query/stream", json=question, headers=api.svc),
            await api.client.post(
                "/v1/chat/completions",
                json={"model": "ragkube", "messages": [{"role": "user", "content": "Chroma?"}]},
                headers=api.svc,
            ),
            await api.client.post(
                "/documents",
                json={"documents": [{"id": "new", "content": "A new document about storage."}]},
                headers=api.svc,
            ),
            await api.client.delete("/documents/chroma", headers=api.admin),
        ]
        for response in refusals:
            assert response.status_code == 503, (response.request.url, response.text)
            error = response.json()
            assert error["error"] == "index_model_mismatch"
            assert error["details"]["recorded"]["embedding_model"] == "all-MiniLM-L6-v2"
            assert set(error) >= {"message", "request_id", "timestamp"}
        after = await stats(api)

    assert (after["documents"], after["chunks"]) == (before["documents"], before["chunks"])
    assert after["index"] == before["index"]
    assert after["index_version"] == before["index_version"]
    async with make_api() as api:  # the configuration that built it still serves it
        assert (await api.client.get("/ready")).status_code == 200
        answer = await api.client.post(
            "/query", json={"query": "What does Chroma store?"}, headers=api.svc
        )
        assert answer.status_code == 200, answer.text
        assert answer.json()["sources"][0]["metadata"]["document_id"] == "chroma"


async def test_a_dimension_change_is_refused_at_start_not_at_query_time(
    make_api: ApiFactory,
) -> None:
    async with make_api() as api:
        await api.ingest_corpus()

    with running_stand_in() as three_dimensions:
        async with make_api(**served_by(three_dimensions, "tiny-3d")) as api:
            assert api.services.rag.index_mismatch is not None  # known before any request
            ready = await api.client.get("/ready")
            assert ready.status_code == 503
            assert "384 dimensions" in ready.json()["message"]
            assert "3 dimensions" in ready.json()["message"]
            asked = len(three_dimensions.requests)
            response = await api.client.post("/query", json={"query": "Chroma?"}, headers=api.svc)
            assert response.status_code == 503
            assert response.json()["error"] == "index_model_mismatch"
            assert len(three_dimensions.requests) == asked  # the query never reached the model


async def test_a_chunking_change_is_refused(make_api: ApiFactory) -> None:
    async with make_api() as api:
        await api.ingest_corpus()
        before = await stats(api)

    async with make_api(chunk_size=128, chunk_overlap=16) as api:
        ready = await api.client.get("/ready")
        assert ready.status_code == 503
        message = ready.json()["message"]
        assert f"{before['index']['chunk_size']} tokens with" in message
        assert "128 tokens with 16 overlap" in message
        ingest = await api.client.post(
            "/documents", json={"documents": [CORPUS[0]]}, headers=api.svc
        )
        assert ingest.status_code == 503
        assert ingest.json()["error"] == "index_model_mismatch"
        assert (await stats(api))["chunks"] == before["chunks"]
