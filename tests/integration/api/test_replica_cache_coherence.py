"""A write on one replica retires every answer another replica cached before it.

Two real API processes share one Chroma server and one Redis (its answer cache), as two pods
of a deployment do. Each cache lookup reads the index version from Chroma, so replica A's
cached answer stops matching the moment replica B deletes the document it cites.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import httpx

from tests.support.api_harness import CORPUS, JWT_SECRET, SERVICE_KEY
from tests.support.api_process import api_process
from tests.support.services import ChromaServer

HEADERS = {"X-API-Key": SERVICE_KEY}
QUESTION = {"query": "What does Chroma store?"}


def cited(response: httpx.Response) -> set[str]:
    """The documents an answer's sources come from."""
    assert response.status_code == 200, response.text
    return {source["metadata"]["document_id"] for source in response.json()["sources"]}


def cache_hits(client: httpx.Client) -> float:
    """The replica's count of answers served from the cache (from /metrics)."""
    text = client.get("/metrics").text
    found = re.search(r'^rag_answer_cache_requests_total\{result="hit"\} (\S+)$', text, re.M)
    return float(found.group(1)) if found else 0.0


def test_a_delete_on_one_replica_retires_the_answers_another_replica_cached(
    chroma_server: ChromaServer, redis_url: str, users_file: Path, tmp_path: Path
) -> None:
    shared = {
        "RAGKUBE_ENV": "development",
        "CHROMA_HOST": chroma_server.host,
        "CHROMA_PORT": str(chroma_server.port),
        "CHROMA_COLLECTION_NAME": f"replicas{uuid.uuid4().hex[:10]}",
        "REDIS_URL": redis_url,
        "REDIS_KEY_PREFIX": f"test:{uuid.uuid4().hex[:12]}",
        "JWT_SECRET_KEY": JWT_SECRET,
        "USERS_FILE": str(users_file),
        "RETRIEVAL_THRESHOLD": "0",
        "RATE_LIMIT_REQUESTS": "10000",
        "LOG_FORMAT": "json",
    }
    with (
        api_process({**shared, "DATA_DIR": str(tmp_path / "a")}, tmp_path / "a") as a,
        api_process({**shared, "DATA_DIR": str(tmp_path / "b")}, tmp_path / "b") as b,
        httpx.Client(base_url=a.url, headers=HEADERS, timeout=60) as replica_a,
        httpx.Client(base_url=b.url, headers=HEADERS, timeout=60) as replica_b,
    ):
        ingested = replica_a.post("/documents", json={"documents": CORPUS})
        assert ingested.status_code == 201, ingested.text
        assert "chroma" in cited(replica_a.post("/query", json=QUESTION))
        hits = cache_hits(replica_a)
        assert "chroma" in cited(replica_a.post("/query", json=QUESTION))
        assert cache_hits(replica_a) == hits + 1  # the second answer came from the cache

        deleted = replica_b.delete("/documents/chroma")
        assert deleted.status_code in (200, 204), deleted.text

        after = replica_a.post("/query", json=QUESTION)
        assert "chroma" not in cited(after)
        assert after.json()["sources"]  # answered from what is left, not refused
        assert "chroma" not in cited(replica_b.post("/query", json=QUESTION))
