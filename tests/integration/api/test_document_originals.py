"""`GET /documents/{id}` returns the document's original, kept in the storage tier (a real
Chroma server), so an index can be rebuilt without a re-upload."""

from __future__ import annotations

import hashlib
from typing import Any

from rag_core.chunking import ChunkingOptions, chunk_documents
from rag_core.document_originals import DocumentOriginals
from rag_core.documents import DocumentInput, LoadedDocument
from rag_core.loading import load_document
from rag_core.system import RAGSystem
from tests.support.api_harness import Api, ApiFactory

GUIDE = (
    "# Kubernetes guide\n\nA Pod runs one or more containers.\nA Service gives Pods one address."
)
METADATA: dict[str, Any] = {"team": "platform", "year": 2024, "score": 0.5, "draft": False}


def originals_of(api: Api) -> DocumentOriginals:
    """The originals store of the app's collection, opened on the app's own Chroma client."""
    rag: RAGSystem = api.services.rag
    originals = DocumentOriginals(rag.store, rag.settings.collection_name)
    originals.open()
    return originals


def sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


async def ingest(api: Api, **document: Any) -> None:
    response = await api.client.post("/documents", json={"documents": [document]}, headers=api.svc)
    assert response.status_code == 201, response.text


async def test_get_returns_the_exact_original_with_the_fields_it_had(api: Api) -> None:
    await ingest(
        api,
        id="guide",
        content=GUIDE,
        source="guide.md",
        content_type="text/markdown",
        metadata=METADATA,
    )

    response = await api.client.get("/documents/guide", headers=api.svc)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["id"] == "guide"
    assert body["source"] == "guide.md"
    assert body["metadata"]["team"] == "platform"
    assert body["chunks"] >= 1
    original = body["original"]
    assert original["text"] == GUIDE
    assert original["source"] == "guide.md"
    assert original["title"] == "Kubernetes guide"
    assert original["metadata"] == METADATA
    assert type(original["metadata"]["year"]) is int
    assert type(original["metadata"]["score"]) is float
    assert original["content_hash"] == sha(GUIDE)
    assert original["stored_at"]


async def test_a_reader_sees_the_original_with_query_scope_only(api: Api) -> None:
    await ingest(api, id="guide", content=GUIDE)

    reader = api.token("alice", ["query"])
    response = await api.client.get("/documents/guide", headers=reader)

    assert response.status_code == 200
    assert response.json()["original"]["text"] == GUIDE
    assert (await api.client.get("/documents/guide")).status_code == 401


async def test_reingesting_an_id_replaces_its_original(api: Api) -> None:
    await ingest(api, id="notes", content="The first version of the notes.", metadata={"v": 1})
    second = "The second version of the notes, rewritten."

    await ingest(api, id="notes", content=second, source="notes-v2.txt", metadata={"v": 2})

    original = (await api.client.get("/documents/notes", headers=api.svc)).json()["original"]
    assert original["text"] == second
    assert original["source"] == "notes-v2.txt"
    assert original["metadata"] == {"v": 2}
    assert original["content_hash"] == sha(second)
    assert [o.document.id for o in originals_of(api).iter_all()] == ["notes"]


async def test_delete_removes_the_document_and_its_original(api: Api) -> None:
    await ingest(api, id="gone", content="A document that will be deleted soon.")
    originals = originals_of(api)
    assert originals.get("gone") is not None

    deleted = await api.client.delete("/documents/gone", headers=api.svc)

    assert deleted.status_code == 204
    assert (await api.client.get("/documents/gone", headers=api.svc)).status_code == 404
    assert originals.get("gone") is None
    assert originals.count() == 0


async def test_a_document_stored_before_originals_were_kept_reads_as_not_kept(api: Api) -> None:
    # Data from before this change: chunks written straight into the vector store, no original.
    rag: RAGSystem = api.services.rag
    [loaded] = load_document(
        DocumentInput("Chroma stores vectors and chunk metadata.", id="old", source="old.txt"),
        0,
        1_000_000,
    )
    assert isinstance(loaded, LoadedDocument)
    [chunks] = chunk_documents(
        [loaded],
        rag.embedder.tokenizer,
        ChunkingOptions(rag.settings.chunk_size, rag.settings.chunk_overlap),
    )
    rag.store.upsert(chunks, rag.embedder.embed([c.embed_text for c in chunks]))

    response = await api.client.get("/documents/old", headers=api.svc)

    assert response.status_code == 200, response.text
    assert response.json()["original"] is None
    assert response.json()["source"] == "old.txt"
    assert response.json()["chunks"] == len(chunks)
    assert (await api.client.delete("/documents/old", headers=api.svc)).status_code == 204
    assert (await api.client.get("/documents/old", headers=api.svc)).status_code == 404


async def test_deleting_an_original_left_without_chunks_finishes_the_delete(api: Api) -> None:
    # What a delete that stopped after the chunks leaves: an original and nothing else.
    originals = originals_of(api)
    [loaded] = load_document(DocumentInput("Half deleted text.", id="half"), 0, 1_000_000)
    assert isinstance(loaded, LoadedDocument)
    originals.put([loaded])
    assert (await api.client.get("/documents/half", headers=api.svc)).status_code == 404

    deleted = await api.client.delete("/documents/half", headers=api.svc)

    assert deleted.status_code == 204
    assert originals.get("half") is None


async def test_two_replicas_on_one_chroma_server_see_the_same_original(
    make_api: ApiFactory,
) -> None:
    async with make_api() as writer, make_api() as reader:
        await ingest(writer, id="shared", content=GUIDE, metadata={"team": "platform"})

        seen = await reader.client.get("/documents/shared", headers=reader.svc)

        assert seen.status_code == 200, seen.text
        assert seen.json()["original"]["text"] == GUIDE
        assert seen.json()["original"]["metadata"] == {"team": "platform"}
        assert (
            await reader.client.delete("/documents/shared", headers=reader.svc)
        ).status_code == 204
        gone = await writer.client.get("/documents/shared", headers=writer.svc)
        assert gone.status_code == 404
        assert originals_of(writer).get("shared") is None
