"""BM25 over chunk title + text on tantivy: incremental segments instead of a rebuilt matrix.

The in-memory `LexicalIndex` rebuilds its whole BM25 matrix after every write, under the lock
every query takes, so its cost grows with the corpus on the write and the query path alike.
Here each write is a small tantivy segment (a delete by chunk id, the new chunks, a commit);
segments are merged in tantivy's background threads, and a query reads from a searcher over
the last committed segments, so writes never wait for queries nor queries for writes beyond
the commit itself. A write is visible to queries as soon as the call that made it returns.

Analysis is exactly `LexicalIndex`'s (`Analyzer`: lower-case, English stopwords, Snowball
stems): its terms are indexed pre-tokenised, so the two indexes hold the same terms and score
them with the same BM25 (k1 = 1.2, b = 0.75; tantivy stores document lengths in one byte, which
moves scores by a few percent, never the set of matches). Metadata filters (equality, `$in`)
are term sets on one multi-valued field inside the query, at no cost to the score.

Chosen over the others measured for the index tier: bm25s (the current engine) has no
incremental update; a SQLite FTS5 table updates in place but its bm25() has no k1/b and ranks
by a full scan of the matches; tantivy is maintained, mmaps its segments from disk and deletes
by term.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import tantivy

from rag_core.errors import RagError
from rag_core.lexical_index import Analyzer, LexicalHit, LexicalResult

_CHUNK_ID = "chunk_id"
_DOCUMENT_ID = "document_id"
_POSITION = "position"
_BODY = "body"
_META = "meta"
#: The manifest beside the segments recording what built the index (rag_core.index_identity);
#: tantivy deletes only files it manages, so it leaves this one alone.
IDENTITY_FILE = "ragkube-identity.json"
#: Memory the writer may buffer before it writes a segment (tantivy's minimum is 15 MB).
WRITER_HEAP_BYTES = 32 * 1024 * 1024
#: The writer indexes with one thread: API pods and the index server have few cores, and
#: the writer's threads would compete with queries for them.
WRITER_THREADS = 1


def _schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_text_field(_CHUNK_ID, stored=True, tokenizer_name="raw")
    builder.add_text_field(_DOCUMENT_ID, stored=True, tokenizer_name="raw")
    builder.add_integer_field(_POSITION, indexed=True, fast=True)
    builder.add_text_field(_BODY, tokenizer_name="whitespace", index_option="freq")
    builder.add_text_field(_META, tokenizer_name="raw", index_option="basic")
    return builder.build()


def metadata_term(field: str, value: object) -> str | None:
    """The one indexed term of a (field, value) pair, or None for values filters never match.

    A boolean is not the number 1 (as in Chroma), while 1 and 1.0 are the same number.
    """
    if isinstance(value, bool):
        kind, text = "b", str(value)
    elif isinstance(value, int | float):
        number = float(value)
        kind, text = "n", (str(int(number)) if number.is_integer() else repr(number))
    elif isinstance(value, str):
        kind, text = "s", value
    else:
        return None
    return f"{field}\x1f{kind}\x1f{text}"


def _count(searcher: tantivy.Searcher, query: tantivy.Query) -> int:
    """How many chunks match `query` (tantivy counts without collecting them)."""
    found = searcher.search(query, limit=1, count=True)
    return int(found.count or 0)  # type: ignore[attr-defined]  # the stubs omit `count`


class TantivyLexicalIndex:
    """Chunk-level BM25 in a tantivy index, on disk under `directory` or in memory."""

    def __init__(self, directory: Path | None = None) -> None:
        self._analyzer = Analyzer()
        self._directory = directory
        self._identity: dict[str, Any] | None = None  # an in-memory index's manifest
        self._schema = _schema()
        if directory is None:
            self._index = tantivy.Index(self._schema)
        else:
            directory.mkdir(parents=True, exist_ok=True)
            self._index = tantivy.Index(self._schema, path=str(directory), reuse=True)
        self._index.config_reader(reload_policy="Manual")
        try:
            self._writer = self._index.writer(
                heap_size=WRITER_HEAP_BYTES, num_threads=WRITER_THREADS
            )
        except ValueError as error:
            if "LockBusy" not in str(error):
                raise
            raise RagError(
                f"The lexical index under {directory} is open in another process (a running "
                "`ragkube serve` on the same data directory?); stop it or use another DATA_DIR."
            ) from None
        # Writes are serialised (one tantivy writer); queries never take this lock.
        self._write_lock = threading.Lock()

    def __len__(self) -> int:
        return int(self._index.searcher().num_docs)

    def recorded_identity(self) -> dict[str, Any] | None:
        """The identity in the index's manifest, or None when none was recorded."""
        if self._directory is None:
            return None if self._identity is None else dict(self._identity)
        try:
            recorded = json.loads((self._directory / IDENTITY_FILE).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except ValueError:
            raise RagError(f"The lexical index's {IDENTITY_FILE} is not JSON.") from None
        if not isinstance(recorded, dict):
            raise RagError(f"The lexical index's {IDENTITY_FILE} is not a JSON object.")
        return recorded

    def record_identity(self, identity: Mapping[str, Any]) -> None:
        """Write the manifest atomically (a crash leaves the old one or the new one)."""
        if self._directory is None:
            self._identity = dict(identity)
            return
        target = self._directory / IDENTITY_FILE
        partial = target.with_name(f".{IDENTITY_FILE}.{os.getpid()}.partial")
        partial.write_text(json.dumps(dict(identity), sort_keys=True), encoding="utf-8")
        os.replace(partial, target)

    def analyze(self, text: str) -> list[str]:
        """The index terms of a text (what BM25 matches)."""
        return self._analyzer.terms(text)

    def _document(self, chunk_id: str, text: str, metadata: Mapping[str, Any]) -> tantivy.Document:
        document = tantivy.Document()
        document.add_text(_CHUNK_ID, chunk_id)
        document.add_text(_DOCUMENT_ID, str(metadata.get("document_id", "")))
        document.add_integer(_POSITION, int(metadata.get("position", 0)))
        document.add_text(_BODY, " ".join(self.analyze(text)))
        for field, value in metadata.items():
            term = metadata_term(field, value)
            if term is not None:
                document.add_text(_META, term)
        return document

    def upsert(self, chunks: Iterable[tuple[str, str, dict[str, Any]]]) -> None:
        """Add or overwrite (id, text, metadata) chunks; visible to queries on return."""
        documents = [
            (chunk_id, self._document(chunk_id, text, metadata))
            for chunk_id, text, metadata in chunks
        ]
        if not documents:
            return
        with self._write_lock:
            for chunk_id, document in documents:
                self._writer.delete_documents_by_term(_CHUNK_ID, chunk_id)
                self._writer.add_document(document)
            self._commit()

    def replace_all(self, chunks: Iterable[tuple[str, str, dict[str, Any]]]) -> None:
        """Reset the index to exactly these chunks (one commit: queries see old or new)."""
        documents = [self._document(cid, text, meta) for cid, text, meta in chunks]
        with self._write_lock:
            self._writer.delete_all_documents()
            for document in documents:
                self._writer.add_document(document)
            self._commit()

    def delete_document(self, document_id: str, from_position: int = 0) -> None:
        """Drop a document's chunks at or after `from_position`."""
        query = tantivy.Query.boolean_query(
            [
                (
                    tantivy.Occur.Must,
                    tantivy.Query.term_query(self._schema, _DOCUMENT_ID, document_id),
                ),
                (
                    tantivy.Occur.Must,
                    tantivy.Query.range_query(
                        self._schema,
                        _POSITION,
                        tantivy.FieldType.Integer,
                        lower_bound=from_position,
                        use_inverted_index=True,
                    ),
                ),
            ]
        )
        with self._write_lock:
            self._writer.delete_documents_by_query(query)
            self._commit()

    def delete_chunks(self, chunk_ids: Iterable[str]) -> None:
        """Drop these chunks (ids not in the index are ignored)."""
        ids = list(chunk_ids)
        if not ids:
            return
        with self._write_lock:
            for chunk_id in ids:
                self._writer.delete_documents_by_term(_CHUNK_ID, chunk_id)
            self._commit()

    def _commit(self) -> None:
        self._writer.commit()
        self._index.reload()

    def chunk_ids_of(self, document_id: str) -> set[str]:
        """Every chunk id this index holds for a document (for consistency checks)."""
        searcher = self._index.searcher()
        query = tantivy.Query.term_query(self._schema, _DOCUMENT_ID, document_id)
        total = _count(searcher, query)
        if total == 0:
            return set()
        found = searcher.search(query, limit=total, count=False)
        return {str(searcher.doc(address).get_first(_CHUNK_ID)) for _, address in found.hits}

    def _filter(self, filters: Mapping[str, Any]) -> tantivy.Query:
        clauses = []
        for field, condition in filters.items():
            allowed = condition["$in"] if isinstance(condition, Mapping) else [condition]
            terms = [t for t in (metadata_term(field, value) for value in allowed) if t]
            clauses.append(
                (tantivy.Occur.Must, tantivy.Query.term_set_query(self._schema, _META, terms))
            )
        return tantivy.Query.const_score_query(tantivy.Query.boolean_query(clauses), 0.0)

    def search(self, query: str, k: int, filters: Mapping[str, Any] | None = None) -> LexicalResult:
        """Up to `k` chunks with a positive BM25 score for `query`, best first."""
        keyword_query = self._analyzer.is_keyword_query(query)
        terms = self.analyze(query)
        if not terms or k < 1:
            return LexicalResult([], keyword_query)
        restriction = self._filter(filters) if filters else None
        # A term repeated in the query counts once per occurrence, as it does in bm25s.
        text_query = tantivy.Query.boolean_query(
            [
                (tantivy.Occur.Should, tantivy.Query.term_query(self._schema, _BODY, term))
                for term in terms
            ]
        )
        searcher = self._index.searcher()
        found = searcher.search(self._within(text_query, restriction), limit=k, count=False)
        hits = [
            LexicalHit(str(searcher.doc(address).get_first(_CHUNK_ID)), float(score))
            for score, address in found.hits
            if score > 0
        ]
        matches = 0
        if keyword_query:
            every_term = tantivy.Query.boolean_query(
                [
                    (tantivy.Occur.Must, tantivy.Query.term_query(self._schema, _BODY, term))
                    for term in set(terms)
                ]
            )
            matches = _count(searcher, self._within(every_term, restriction))
        return LexicalResult(hits, keyword_query, matches)

    @staticmethod
    def _within(query: tantivy.Query, restriction: tantivy.Query | None) -> tantivy.Query:
        if restriction is None:
            return query
        return tantivy.Query.boolean_query(
            [(tantivy.Occur.Must, query), (tantivy.Occur.Must, restriction)]
        )

    def close(self) -> None:
        """Let background merges finish and release the index's writer lock."""
        with self._write_lock:
            self._writer.wait_merging_threads()
