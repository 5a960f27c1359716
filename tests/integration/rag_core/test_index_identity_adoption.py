"""Data written before indexes recorded their identity is adopted once, as built by the
configured identity; an empty index records its identity at its first write (embedded Chroma
and the in-process lexical index, under a temporary data directory)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from rag_core import RagSettings, RAGSystem
from rag_core.errors import IndexModelMismatch
from rag_core.samples import sample_documents
from rag_core.tantivy_lexical_index import IDENTITY_FILE
from rag_core.vector_store import INDEX_IDENTITY_KEY, INDEX_VERSION_KEY


def forget_identity(system: RAGSystem) -> None:
    """Make the stores look like data from before identities: no metadata key, no manifest."""
    collection = system.store.collection
    version = collection.metadata[INDEX_VERSION_KEY]
    collection.modify(metadata={INDEX_VERSION_KEY: version})
    (system.settings.lexical_path / IDENTITY_FILE).unlink()


async def test_pre_existing_data_without_identity_is_adopted_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = RagSettings(data_dir=tmp_path)
    old = RAGSystem(settings)
    await old.astart()
    assert all(r.ok for r in await old.aingest(sample_documents()))
    forget_identity(old)
    assert old.store.recorded_identity() is None
    chunks = old.store.count()
    await old.aclose()

    with caplog.at_level(logging.WARNING, logger="rag_core.index_identity"):
        system = RAGSystem(settings)
        await system.astart()
    try:
        adopted = [r for r in caplog.records if "adopting it, once" in r.getMessage()]
        assert len(adopted) == 1  # the vector store's; the lexical index then records the same
        assert system.index_mismatch is None
        recorded = system.store.recorded_identity()
        assert recorded is not None
        assert recorded["embedding_model"] == "all-MiniLM-L6-v2"
        assert recorded["chunk_size"] == settings.chunk_size
        manifest = json.loads((settings.lexical_path / IDENTITY_FILE).read_text())
        assert manifest == recorded
        assert (await system.astats())["index"] == recorded
        assert system.store.count() == chunks
        assert (await system.aquery("Which probe uses GET /ready?")).sources
    finally:
        await system.aclose()

    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="rag_core.index_identity"):
        again = RAGSystem(settings)
        await again.astart()
    try:
        assert not [r for r in caplog.records if "adopting" in r.getMessage()]  # only once
        assert again.store.recorded_identity() == recorded
    finally:
        await again.aclose()


async def test_an_empty_index_records_its_identity_at_the_first_write(tmp_path: Path) -> None:
    system = RAGSystem(RagSettings(data_dir=tmp_path))
    await system.astart()
    try:
        assert system.store.recorded_identity() is None
        assert INDEX_IDENTITY_KEY not in (system.store.collection.metadata or {})
        assert (await system.astats())["index"] is None

        await system.aingest(sample_documents()[:1])

        recorded = system.store.recorded_identity()
        assert recorded is not None
        assert recorded["dimension"] == 384
        # Later writes keep it: the index version changes beside it, the identity does not.
        version = system.index_version
        await system.aingest(sample_documents()[1:2])
        assert system.index_version != version
        assert system.store.recorded_identity() == recorded
    finally:
        await system.aclose()


async def test_writes_are_refused_once_another_configuration_built_the_index(
    tmp_path: Path,
) -> None:
    built = RAGSystem(RagSettings(data_dir=tmp_path, chunk_size=128, chunk_overlap=16))
    await built.astart()
    await built.aingest(sample_documents()[:2])
    await built.aclose()

    system = RAGSystem(RagSettings(data_dir=tmp_path))
    await system.astart()
    try:
        chunks = system.store.count()
        with pytest.raises(IndexModelMismatch, match="128 tokens with 16 overlap"):
            await system.aingest(sample_documents()[2:3])
        with pytest.raises(IndexModelMismatch):
            await system.adelete_document(sample_documents()[0].id)
        with pytest.raises(IndexModelMismatch):
            await system.aquery("Which probe uses GET /ready?", mode="dense")
        assert (await system.acheck_ready())["index"] is False
        assert system.store.count() == chunks
    finally:
        await system.aclose()
