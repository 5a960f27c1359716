"""The original of every ingested document, kept in the storage tier so an index can be
rebuilt from it without anyone uploading the document again.

Where: a second Chroma collection beside the chunk collection, named `<collection>-originals`
after the deployment's collection. Chroma is the one durable store every deployment has and
every API pod shares (Redis is optional and not durable; the lexical index server holds
chunks, not documents), and embedded mode keeps it under the same data directory. One record
per document, keyed by the document id: the record's document is the text, its metadata the
source, title, content hash, the caller's metadata (as JSON, so value types survive exactly)
and when it was stored. Chroma needs an embedding for every record, so each carries the same
one-number placeholder vector; the collection is never searched. A 2-million-character text
(`max_document_text_chars`) is one record; writes are grouped by size, not only by count.

What is kept is the document as loading made it: the visible text that chunking cuts
(extracted from HTML or PDF, whitespace normalised; a plain text arrives as given, but for
its blanks), its title, its source, its metadata after loading's checks, and `content_hash`,
the hash of the uploaded bytes that its chunks carry too. Loading is deterministic, so a
re-index that chunks and embeds this text builds what an upload of the same bytes would.

Order of writes (rag_core.system): an original is written before its chunks and deleted
after them, and a re-ingest of an id replaces its original. So a crash can leave:
- an original without chunks: an ingestion whose chunk write failed (the caller was told,
  and a retry overwrites it) or a delete that stopped half way. The document is not served
  (lists and GET read the chunks); DELETE of its id removes the original and answers as for a
  stored document, so retrying a delete finishes it. A re-index from originals would bring
  such a document back; telling the two cases apart is the re-index's concern.
- chunks without an original: documents ingested before originals were kept. They are served
  as before; `GET /documents/{id}` answers 200 with `"original": null` (not kept), and a
  re-index cannot rebuild them until they are ingested again.
The consistency sweep (rag_core.consistency) keeps the lexical index in step with the chunks
and never touches originals.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Iterator, Sequence
from typing import Any

from rag_core.documents import DocumentOriginal, LoadedDocument, MetadataValue
from rag_core.errors import VectorStoreUnavailable
from rag_core.vector_store import ChromaStore

#: The originals collection's name is the chunk collection's with this suffix.
ORIGINALS_SUFFIX = "-originals"
#: Every record's embedding: Chroma stores none without one, and nothing searches them.
_PLACEHOLDER_EMBEDDING = [1.0]
#: Characters of text sent to Chroma in one write (a few 2M-character originals at most).
_WRITE_CHARS = 8_000_000


def originals_collection_name(collection_name: str) -> str:
    """The name of the collection holding the originals of `collection_name`'s documents."""
    return f"{collection_name}{ORIGINALS_SUFFIX}"


class DocumentOriginals:
    """The originals of one deployment's documents. Every method blocks; call it off the
    event loop. Errors are the chunk store's: `VectorStoreUnavailable` when Chroma cannot be
    reached."""

    def __init__(self, store: ChromaStore, collection_name: str) -> None:
        self._store = store
        self._name = originals_collection_name(collection_name)
        self._collection: Any = None

    @property
    def name(self) -> str:
        return self._name

    def open(self) -> None:
        """Get or create the originals collection (after the chunk store's `open()`)."""
        self._collection = self._store.companion_collection(self._name)

    def close(self) -> None:
        self._collection = None

    @property
    def _opened(self) -> Any:
        if self._collection is None:
            raise VectorStoreUnavailable("The originals are not open; call open() first.")
        return self._collection

    def put(self, documents: Sequence[LoadedDocument]) -> None:
        """Store the originals of `documents`, replacing any earlier original of each id."""
        stored_at = dt.datetime.now(dt.UTC).isoformat()
        group: list[LoadedDocument] = []
        size = 0
        for document in documents:
            if group and size + len(document.text) > _WRITE_CHARS:
                self._write(group, stored_at)
                group, size = [], 0
            group.append(document)
            size += len(document.text)
        if group:
            self._write(group, stored_at)

    def _write(self, documents: list[LoadedDocument], stored_at: str) -> None:
        collection = self._opened
        self._store.call(
            functools.partial(
                collection.upsert,
                ids=[d.id for d in documents],
                embeddings=[_PLACEHOLDER_EMBEDDING] * len(documents),
                documents=[d.text for d in documents],
                metadatas=[_record_metadata(d, stored_at) for d in documents],
            )
        )

    def get(self, document_id: str) -> DocumentOriginal | None:
        """The original of `document_id`, or None when none is kept."""
        collection = self._opened
        result = self._store.call(
            lambda: collection.get(ids=[document_id], include=["documents", "metadatas"])
        )
        originals = _originals(result)
        return originals[0] if originals else None

    def delete(self, document_id: str) -> bool:
        """Remove the original of `document_id`; False when none was kept."""
        collection = self._opened
        found = self._store.call(lambda: collection.get(ids=[document_id], include=[]))
        if not found["ids"]:
            return False
        self._store.call(lambda: collection.delete(ids=[document_id]))
        return True

    def page(self, offset: int, limit: int) -> list[DocumentOriginal]:
        """Up to `limit` originals from `offset`, in the store's order (stable between writes)."""
        collection = self._opened
        result = self._store.call(
            lambda: collection.get(include=["documents", "metadatas"], offset=offset, limit=limit)
        )
        return _originals(result)

    def iter_all(self, page_size: int = 100) -> Iterator[DocumentOriginal]:
        """Every original, a page at a time (what a re-index reads); pages stay small because
        one original may be millions of characters."""
        offset = 0
        while True:
            originals = self.page(offset, page_size)
            yield from originals
            if len(originals) < page_size:
                return
            offset += page_size

    def count(self) -> int:
        """How many originals are kept."""
        collection = self._opened
        return int(self._store.call(lambda: collection.count()))


def _record_metadata(document: LoadedDocument, stored_at: str) -> dict[str, MetadataValue]:
    # Chroma metadata holds no None: an absent source or title is an absent key.
    record: dict[str, MetadataValue] = {
        "content_hash": document.content_hash,
        "metadata_json": json.dumps(document.metadata, ensure_ascii=False, sort_keys=True),
        "stored_at": stored_at,
    }
    if document.source is not None:
        record["source"] = document.source
    if document.title is not None:
        record["title"] = document.title
    return record


def _originals(result: Any) -> list[DocumentOriginal]:
    originals: list[DocumentOriginal] = []
    for record_id, text, raw in zip(
        result["ids"], result["documents"], result["metadatas"], strict=True
    ):
        record = dict(raw or {})
        source, title = record.get("source"), record.get("title")
        originals.append(
            DocumentOriginal(
                LoadedDocument(
                    id=str(record_id),
                    text=text or "",
                    source=None if source is None else str(source),
                    title=None if title is None else str(title),
                    metadata=json.loads(str(record.get("metadata_json", "{}"))),
                    content_hash=str(record.get("content_hash", "")),
                ),
                stored_at=str(record.get("stored_at", "")),
            )
        )
    return originals
