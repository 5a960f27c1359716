"""Chroma refusing input is the caller's error; only an unreachable store is an outage."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from rag_core import DocumentRejected, InvalidQuery, RagSettings, VectorStoreUnavailable
from rag_core.documents import Chunk
from rag_core.vector_store import ChromaStore


def chunk(document_id: str, metadata: dict[str, Any]) -> Chunk:
    meta = {"document_id": document_id, "position": 0, **metadata}
    return Chunk(f"{document_id}::0", document_id, 0, "Some text.", "Some text.", meta)


@pytest.fixture(params=["embedded", "server"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ChromaStore]:
    settings = RagSettings(data_dir=tmp_path, collection_name=f"t{uuid.uuid4().hex[:12]}")
    if request.param == "server":
        server = request.getfixturevalue("chroma_server")
        settings = RagSettings(
            data_dir=tmp_path,
            collection_name=settings.collection_name,
            chroma_host=server.host,
            chroma_port=server.port,
        )
    opened = ChromaStore(settings)
    opened.open()
    yield opened
    opened.close()


def test_metadata_chroma_refuses_rejects_the_document_not_the_store(store: ChromaStore) -> None:
    vectors = np.ones((1, 4), dtype=np.float32)
    with pytest.raises(DocumentRejected) as caught:
        store.upsert([chunk("bad-doc", {"$where": 1})], vectors)
    assert caught.value.document == "bad-doc"
    assert store.heartbeat()
    store.upsert([chunk("good-doc", {"team": "ops"})], vectors)
    assert store.count() == 1


def test_a_query_chroma_refuses_is_an_invalid_query(store: ChromaStore) -> None:
    store.upsert([chunk("doc", {})], np.ones((1, 4), dtype=np.float32))
    with pytest.raises(InvalidQuery):
        store.query(np.ones(3, dtype=np.float32), k=1)  # wrong dimension
    with pytest.raises(InvalidQuery):
        store.query(np.ones(4, dtype=np.float32), k=1, filters={"team": {"$in": []}})
    assert [hit.id for hit in store.query(np.ones(4, dtype=np.float32), k=1)] == ["doc::0"]


def test_an_unreachable_server_is_still_unavailable(tmp_path: Path) -> None:
    settings = RagSettings(
        data_dir=tmp_path, chroma_host="127.0.0.1", chroma_port=1, chroma_timeout_seconds=2
    )
    with pytest.raises(VectorStoreUnavailable):
        ChromaStore(settings).open()
