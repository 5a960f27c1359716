"""The store of originals keeps each document's text, source, title, metadata and hash in a
collection beside the chunks, on a real Chroma server."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rag_core.document_originals import DocumentOriginals, originals_collection_name
from rag_core.documents import LoadedDocument, MetadataValue
from rag_core.settings import RagSettings
from rag_core.vector_store import ChromaStore


@pytest.fixture
def originals(tmp_path: Path, chroma_server: Any) -> Iterator[DocumentOriginals]:
    settings = RagSettings(
        data_dir=tmp_path,
        chroma_host=chroma_server.host,
        chroma_port=chroma_server.port,
        collection_name=f"orig-{uuid.uuid4().hex[:12]}",
    )
    store = ChromaStore(settings)
    store.open()
    kept = DocumentOriginals(store, settings.collection_name)
    kept.open()
    yield kept
    kept.close()
    store.close()


def document(
    document_id: str,
    text: str,
    *,
    source: str | None = None,
    title: str | None = None,
    metadata: dict[str, MetadataValue] | None = None,
) -> LoadedDocument:
    return LoadedDocument(
        id=document_id,
        text=text,
        source=source,
        title=title,
        metadata=metadata or {},
        content_hash=f"hash-of-{document_id}",
    )


def test_an_original_reads_back_exactly_as_put(originals: DocumentOriginals) -> None:
    metadata: dict[str, MetadataValue] = {"lang": "en", "pages": 3, "weight": 1.0, "ok": True}
    put = document("a", "Text of A.", source="a.md", title="A", metadata=metadata)
    originals.put([put])

    kept = originals.get("a")

    assert kept is not None
    assert kept.document == put
    assert type(kept.document.metadata["weight"]) is float
    assert kept.stored_at


def test_a_document_without_source_or_title_reads_back_with_none(
    originals: DocumentOriginals,
) -> None:
    originals.put([document("plain", "Just text.")])

    kept = originals.get("plain")

    assert kept is not None
    assert kept.document == document("plain", "Just text.")


def test_a_two_million_character_original_round_trips(originals: DocumentOriginals) -> None:
    # MAX_DOCUMENT_TEXT_CHARS of text with multi-byte characters: about 5 MB of UTF-8.
    text = ("Grüße aus Köln — 東京 ✓ " * 90_910)[:2_000_000]
    assert len(text) == 2_000_000
    originals.put([document("big", text), document("small", "Beside it.")])

    kept = originals.get("big")

    assert kept is not None
    assert kept.document.text == text
    assert originals.get("small") is not None


def test_putting_an_id_again_replaces_its_original(originals: DocumentOriginals) -> None:
    originals.put([document("doc", "First.", metadata={"v": 1})])

    originals.put([document("doc", "Second.", metadata={"v": 2})])

    kept = originals.get("doc")
    assert kept is not None
    assert (kept.document.text, kept.document.metadata) == ("Second.", {"v": 2})
    assert originals.count() == 1


def test_delete_removes_one_original_and_says_whether_it_was_there(
    originals: DocumentOriginals,
) -> None:
    originals.put([document("x", "X."), document("y", "Y.")])

    assert originals.delete("x") is True
    assert originals.delete("x") is False
    assert originals.get("x") is None
    assert originals.get("y") is not None


def test_every_original_is_read_once_page_by_page(originals: DocumentOriginals) -> None:
    ids = [f"doc-{n:02d}" for n in range(25)]
    originals.put([document(i, f"Text {i}.") for i in ids])

    seen = [o.document.id for o in originals.iter_all(page_size=7)]

    assert sorted(seen) == ids
    assert len(originals.page(offset=20, limit=10)) == 5


def test_the_originals_collection_is_named_after_the_chunk_collection() -> None:
    assert originals_collection_name("ragkube") == "ragkube-originals"
