"""Keeping the two stores in step: the lexical index holds exactly the chunks Chroma holds.

Chunk ids join the stores, and every write goes to Chroma first and every delete to the
lexical index first, so whatever a crash between the two steps leaves behind is visible from
Chroma's side: a document whose chunks the lexical index lacks (or holds more of). A sweep over
Chroma's documents, page by page in the background, compares each document's chunk ids in both
stores and writes the difference into the lexical index; it never touches Chroma.
"""

from __future__ import annotations

from dataclasses import dataclass

from rag_core.chunking import embed_text
from rag_core.lexical_index import LexicalStore
from rag_core.vector_store import ChromaStore, StoredChunk


@dataclass(frozen=True)
class Repair:
    """What one pass over some documents changed in the lexical index."""

    documents: int = 0
    missing_chunks: int = 0  # written into the lexical index
    extra_chunks: int = 0  # removed from it

    def __add__(self, other: Repair) -> Repair:
        return Repair(
            self.documents + other.documents,
            self.missing_chunks + other.missing_chunks,
            self.extra_chunks + other.extra_chunks,
        )


def indexed_text(chunk: StoredChunk) -> str:
    """The text BM25 indexed for a stored chunk (title prefix included when it was embedded)."""
    title = str(chunk.metadata.get("title") or "")
    return embed_text(title, chunk.text) if chunk.metadata.get("title_prefixed") else chunk.text


def repair_document(store: ChromaStore, lexical: LexicalStore, document_id: str) -> Repair:
    """Make the lexical index hold exactly this document's chunks in Chroma."""
    stored = {chunk.id: chunk for chunk in store.chunks_of(document_id)}
    indexed = lexical.chunk_ids_of(document_id)
    missing = set(stored) - indexed
    extra = indexed - set(stored)
    if extra:
        lexical.delete_chunks(sorted(extra))
    if missing:
        lexical.upsert(
            (cid, indexed_text(stored[cid]), stored[cid].metadata) for cid in sorted(missing)
        )
    return Repair(1, len(missing), len(extra))


def repair_page(
    store: ChromaStore, lexical: LexicalStore, offset: int, limit: int
) -> tuple[Repair, int]:
    """Repair `limit` documents from `offset` of Chroma's document list; the next offset, or 0
    once the list is done."""
    firsts = store.first_chunks(offset=offset, limit=limit)
    total = Repair()
    for first in firsts:
        total += repair_document(store, lexical, str(first.metadata.get("document_id", "")))
    return total, (offset + len(firsts) if len(firsts) == limit else 0)
