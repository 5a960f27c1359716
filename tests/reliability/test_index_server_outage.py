"""The lexical index server SIGKILLed, then restarted on the same volume.

While it is down, hybrid queries are answered from dense retrieval alone and say so
(`lexical_unavailable` in `guardrails_triggered`, never cached), lexical-only queries and
ingestion fail fast with the 503 `lexical_index_unavailable` envelope, and /ready stays 200: the
API can still answer. When it is back, the same API process uses it again by itself, with every
chunk written before the crash.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from tests.support.api_harness import ApiFactory
from tests.support.services import index_server


async def test_queries_fall_back_to_dense_while_the_index_server_is_down(
    make_api: ApiFactory, tmp_path: Path
) -> None:
    token = secrets.token_urlsafe(32)
    with index_server(tmp_path / "index", token) as lexical:
        async with make_api(lexical_index_url=lexical.url, lexical_index_token=token) as api:
            await api.ingest_corpus()
            question = {"query": "What does BM25 rank documents by?", "mode": "hybrid"}
            before = await api.client.post("/query", json=question, headers=api.svc)

            lexical.kill()
            # Another question: the answer cached before the outage is still a right answer.
            outage_question = {**question, "query": "Which ranking function scores terms?"}
            during = await api.client.post("/query", json=outage_question, headers=api.svc)
            again = await api.client.post("/query", json=outage_question, headers=api.svc)
            lexical_only = await api.client.post(
                "/query", json={**question, "mode": "lexical"}, headers=api.svc
            )
            ingest = await api.client.post(
                "/documents",
                json={"documents": [{"id": "late", "content": "Written during the outage."}]},
                headers=api.svc,
            )
            ready = await api.client.get("/ready")

            lexical.restart()
            after = await api.client.post(
                "/query", json={**question, "mode": "lexical"}, headers=api.svc
            )

    assert before.status_code == 200
    assert "lexical_unavailable" not in before.json()["guardrails_triggered"]
    assert during.status_code == 200
    assert during.json()["sources"], "the dense side still answers"
    assert "lexical_unavailable" in during.json()["guardrails_triggered"]
    # Not served from the cache: the degraded answer was not stored.
    assert "lexical_unavailable" in again.json()["guardrails_triggered"]
    assert lexical_only.status_code == 503
    assert lexical_only.json()["error"] == "lexical_index_unavailable"
    assert lexical_only.headers["retry-after"]
    assert ingest.status_code == 503
    assert ingest.json()["error"] == "lexical_index_unavailable"
    assert ready.status_code == 200
    assert after.status_code == 200
    assert after.json()["sources"]
    assert "lexical_unavailable" not in after.json()["guardrails_triggered"]


async def test_an_api_starts_and_answers_while_the_index_server_is_down(
    make_api: ApiFactory, tmp_path: Path
) -> None:
    token = secrets.token_urlsafe(32)
    with index_server(tmp_path / "index", token) as lexical:
        async with make_api(lexical_index_url=lexical.url, lexical_index_token=token) as api:
            await api.ingest_corpus()
        lexical.kill()

        # The index's identity is read from Chroma; the lexical manifest waits for the server.
        async with make_api(lexical_index_url=lexical.url, lexical_index_token=token) as api:
            ready = await api.client.get("/ready")
            answer = await api.client.post(
                "/query", json={"query": "What does Chroma store?"}, headers=api.svc
            )
            stats = await api.client.get("/stats", headers=api.admin)
        lexical.restart()

    assert ready.status_code == 200, ready.text
    assert answer.status_code == 200, answer.text
    assert "lexical_unavailable" in answer.json()["guardrails_triggered"]
    assert stats.json()["index"]["embedding_model"] == "all-MiniLM-L6-v2"
