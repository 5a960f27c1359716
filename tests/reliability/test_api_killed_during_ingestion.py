"""The API process SIGKILLed in the middle of an ingestion, restarted, and the batch re-sent.

The API runs as a real uvicorn process against the real Chroma server. After the restart,
re-ingesting the same batch leaves exactly one copy of every document, each with exactly
the chunks its chunk count says (no duplicates, no orphans), and what was ingested before
the crash is still there.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any

import chromadb
import httpx

from tests.support.api_harness import JWT_SECRET, SERVICE_KEY
from tests.support.api_process import api_process
from tests.support.services import ChromaServer

PARAGRAPH = (
    "Rivers carry water from the mountains to the sea. Along the way they shape valleys, "
    "feed wetlands and deposit sediment where the current slows. "
)


def _batch() -> list[dict[str, Any]]:
    return [
        {
            "id": f"doc-{i:03d}",
            "content": f"# Document {i}\n\n" + PARAGRAPH * (6 + i % 9),
            "metadata": {"n": i},
        }
        for i in range(60)
    ]


def _chunks_by_document(chroma: ChromaServer, collection: str) -> dict[str, list[dict[str, Any]]]:
    client = chromadb.HttpClient(host=chroma.host, port=chroma.port)
    stored = client.get_collection(collection).get(include=["metadatas"])
    by_document: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for chunk_id, metadata in zip(stored["ids"], stored["metadatas"] or [], strict=True):
        by_document[str(metadata["document_id"])].append({"id": chunk_id, **metadata})
    return by_document


async def test_sigkill_during_ingestion_then_reingest_leaves_no_duplicates_or_orphans(
    chroma_server: ChromaServer, users_file: Path, tmp_path: Path
) -> None:
    collection = f"crash{uuid.uuid4().hex[:10]}"
    env = {
        "RAGKUBE_ENV": "development",
        "DATA_DIR": str(tmp_path / "data"),
        "CHROMA_HOST": chroma_server.host,
        "CHROMA_PORT": str(chroma_server.port),
        "CHROMA_COLLECTION_NAME": collection,
        "JWT_SECRET_KEY": JWT_SECRET,
        "USERS_FILE": str(users_file),
        "RATE_LIMIT_REQUESTS": "10000",
        "LOG_FORMAT": "json",
    }
    headers = {"X-API-Key": SERVICE_KEY}
    batch = _batch()
    with api_process(env, tmp_path / "api") as api:
        async with httpx.AsyncClient(base_url=api.url, timeout=120) as client:
            kept = await client.post(
                "/documents",
                json={"documents": [{"id": "before-crash", "content": PARAGRAPH}]},
                headers=headers,
            )
            assert kept.status_code == 201, kept.text

            # Send the batch and kill the process while it is being ingested.
            sending = asyncio.create_task(
                client.post("/documents", json={"documents": batch}, headers=headers)
            )
            await asyncio.sleep(0.5)
            deadline = time.monotonic() + 3
            while (
                time.monotonic() < deadline
                and len(_chunks_by_document(chroma_server, collection)) < 2
            ):
                await asyncio.sleep(0.05)
            assert not sending.done(), "the batch finished before the kill; make it larger"
            api.kill()
            try:
                await sending
                raise AssertionError("the request survived a SIGKILL")
            except httpx.HTTPError:
                pass  # the connection died with the process, as a client would see it

        api.restart()
        async with httpx.AsyncClient(base_url=api.url, timeout=120) as client:
            again = await client.post("/documents", json={"documents": batch}, headers=headers)
            assert again.status_code == 201, again.text
            results = {r["document_id"]: r["chunks"] for r in again.json()["results"]}
            listed = await client.get("/documents", params={"limit": 200}, headers=headers)
            assert listed.json()["total"] == len(batch) + 1
            stats = (await client.get("/stats", headers=headers)).json()

    stored = _chunks_by_document(chroma_server, collection)
    assert set(stored) == {d["id"] for d in batch} | {"before-crash"}
    for document_id, chunks in stored.items():
        positions = sorted(int(c["position"]) for c in chunks)
        assert positions == list(range(len(chunks))), document_id  # no gap, no duplicate
        assert {int(c["chunks"]) for c in chunks} == {len(chunks)}, document_id  # no orphan
        if document_id in results:
            assert len(chunks) == results[document_id]
    assert stats["chunks"] == sum(len(c) for c in stored.values())
