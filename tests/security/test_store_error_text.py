"""No vector store's own error text reaches a client: it names internals (`#document`, SQL
variables, indexing) and echoes input back. Chroma's words stay in the server's log."""

from __future__ import annotations

import uuid
from typing import Any

import numpy as np
import pytest

from rag_core import DocumentRejected, InvalidQuery, RagSettings
from rag_core.documents import Chunk
from rag_core.vector_store import ChromaStore
from tests.support.api_harness import Api

#: Words of Chroma's messages for the filters below (as the old code passed them on).
CHROMA_WORDS = (
    "indexing",
    "SQL",
    "operand",
    "Expected",
    "Internal",
    "plan",
    "same type",
    "Validation",
    "at index",
)

#: Filters that reached Chroma before they were validated, each failing there its own way.
HOSTILE_FILTERS = [
    pytest.param({"#document": "Chroma"}, id="internal document column"),
    pytest.param({"#document": {"$in": ["a", "b"]}}, id="internal column in $in"),
    pytest.param({"year": {"$in": [2014, "x"]}}, id="mixed-type $in"),
    pytest.param({"year": {"$in": list(range(40_000))}}, id="too many SQL variables"),
]


def assert_no_store_words(text: str) -> None:
    leaked = [word for word in CHROMA_WORDS if word.lower() in text.lower()]
    assert not leaked, text[:500]


@pytest.mark.parametrize("filters", HOSTILE_FILTERS)
@pytest.mark.parametrize("mode", ["dense", "lexical", "hybrid"])
async def test_hostile_filters_get_our_400_in_every_mode(
    api: Api, mode: str, filters: dict[str, Any]
) -> None:
    await api.ingest_corpus()
    for route in ("/query", "/query/stream"):
        response = await api.client.post(
            route,
            json={"query": "what stores embeddings?", "mode": mode, "filters": filters},
            headers=api.svc,
        )
        assert response.status_code == 400, (route, response.text[:500])
        assert response.json()["error"] in {"invalid_query", "limit_exceeded"}
        assert_no_store_words(response.text)


@pytest.fixture
def store(chroma_server: Any, tmp_path: Any) -> ChromaStore:
    settings = RagSettings(
        data_dir=tmp_path,
        collection_name=f"t{uuid.uuid4().hex[:12]}",
        chroma_host=chroma_server.host,
        chroma_port=chroma_server.port,
    )
    opened = ChromaStore(settings)
    opened.open()
    meta = {"document_id": "doc", "position": 0}
    opened.upsert([Chunk("doc::0", "doc", 0, "Text.", "Text.", meta)], np.ones((1, 4)))
    return opened


@pytest.mark.parametrize(
    "filters",
    [{"#document": "x"}, {"k": {"$in": [1, "x"]}}],
    ids=["internal column", "mixed types"],
)
def test_a_query_the_store_refuses_is_described_without_its_words(
    store: ChromaStore, filters: dict[str, Any]
) -> None:
    # The store's last line of defence, for whatever validation misses one day.
    with pytest.raises(InvalidQuery) as caught:
        store.query(np.ones(4, dtype=np.float32), k=1, filters=filters)
    assert "refused the query" in str(caught.value)
    assert_no_store_words(str(caught.value))


def test_chunks_the_store_refuses_are_described_without_its_words(store: ChromaStore) -> None:
    meta = {"document_id": "bad", "position": 0, "#document": "x"}
    with pytest.raises(DocumentRejected) as caught:
        store.upsert([Chunk("bad::0", "bad", 0, "Text.", "Text.", meta)], np.ones((1, 4)))
    assert caught.value.document == "bad"
    assert_no_store_words(str(caught.value))
