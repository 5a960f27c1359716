"""BM25 over chunk title + text (bm25s), with an English Snowball stemmer and stopwords.

The index mirrors the vector store: upserts and deletes change its chunk table at once and the
BM25 matrix is rebuilt lazily before the next search; at start, or when another replica changed
the shared collection, it is rebuilt from the chunks stored in Chroma. A chunk with no terms
(a lone digit, only stopwords or punctuation) is stored and simply never matches lexically;
dense retrieval can still find it.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

_WORD = re.compile(r"(?u)\b\w\w+\b")
_ANY_WORD = re.compile(r"(?u)\w+")

#: A query of at most this many words, none of them a function word, is a keyword query.
KEYWORD_QUERY_WORDS = 4


class Analyzer:
    """Lower-cases, splits into words, drops English stopwords and stems what is left."""

    def __init__(self) -> None:
        import Stemmer
        from bm25s.stopwords import STOPWORDS_EN, STOPWORDS_EN_PLUS

        self._stemmer = Stemmer.Stemmer("english")
        self._stopwords = frozenset(STOPWORDS_EN)
        # The longer NLTK list: question words and auxiliaries ("how", "does", "should") mark
        # a sentence, though BM25 keeps them as terms.
        self._function_words = frozenset(STOPWORDS_EN_PLUS)

    def terms(self, text: str) -> list[str]:
        words = [w for w in _WORD.findall(text.lower()) if w not in self._stopwords]
        return list(self._stemmer.stemWords(words))

    def is_keyword_query(self, text: str) -> bool:
        """A few content words and no function word: a lookup ("btrfs heatmap"), not a
        sentence ("how does btrfs balance data")."""
        words = _ANY_WORD.findall(text.lower())
        return 0 < len(words) <= KEYWORD_QUERY_WORDS and not any(
            word in self._function_words for word in words
        )


@dataclass(frozen=True)
class LexicalHit:
    id: str
    score: float


@dataclass(frozen=True)
class LexicalResult:
    """BM25's hits for a query, with what the query itself says about lexical matching.

    `all_terms_matches` counts the chunks (within the filters) that contain every term of a
    keyword query; it is 0 for other queries, and when a term occurs nowhere.
    """

    hits: list[LexicalHit]
    keyword_query: bool = False
    all_terms_matches: int = 0


#: A metadata value as filters compare it: a boolean is not the number 1 (as in Chroma).
_Value = tuple[bool, str | int | float]
_Postings = dict[str, dict[_Value, list[int]]]


def _typed(value: str | int | float) -> _Value:
    return isinstance(value, bool), value


@dataclass
class _Entry:
    terms: list[str]
    metadata: dict[str, Any]


class LexicalIndex:
    """Chunk-level BM25 with metadata filters applied as a mask inside the scoring."""

    def __init__(self, k1: float = 1.2, b: float = 0.75) -> None:
        self._analyzer = Analyzer()
        self._k1 = k1
        self._b = b
        self._entries: dict[str, _Entry] = {}
        self._lock = threading.RLock()
        self._bm25: Any = None
        self._ids: list[str] = []
        self._postings: _Postings | None = None
        self._dirty = True

    def __len__(self) -> int:
        return len(self._entries)

    def analyze(self, text: str) -> list[str]:
        """The index terms of a text (what BM25 matches)."""
        return self._analyzer.terms(text)

    def replace_all(self, chunks: Iterable[tuple[str, str, dict[str, Any]]]) -> None:
        """Reset the index to exactly these (id, text, metadata) chunks."""
        entries = {cid: _Entry(self.analyze(text), meta) for cid, text, meta in chunks}
        with self._lock:
            self._entries = entries
            self._dirty = True

    def upsert(self, chunks: Iterable[tuple[str, str, dict[str, Any]]]) -> None:
        """Add or overwrite chunks."""
        analysed = [(cid, _Entry(self.analyze(text), meta)) for cid, text, meta in chunks]
        with self._lock:
            self._entries.update(analysed)
            self._dirty = True

    def delete_document(self, document_id: str, from_position: int = 0) -> None:
        """Drop a document's chunks at or after `from_position`."""
        with self._lock:
            stale = [
                cid
                for cid, entry in self._entries.items()
                if entry.metadata.get("document_id") == document_id
                and int(entry.metadata.get("position", 0)) >= from_position
            ]
            for cid in stale:
                del self._entries[cid]
            if stale:
                self._dirty = True

    def document_of(self, chunk_id: str) -> str:
        """The document a chunk belongs to ("" when the chunk is unknown)."""
        entry = self._entries.get(chunk_id)
        return str(entry.metadata.get("document_id", "")) if entry else ""

    def build(self) -> None:
        """Rebuild the BM25 matrix if the chunk table changed (blocking, CPU-bound)."""
        import bm25s

        with self._lock:
            if not self._dirty:
                return
            ids = list(self._entries)
            # Chunks without terms ("0", stopwords only) are kept but never match; bm25s
            # cannot index a corpus whose vocabulary is empty, and would score nothing anyway.
            if any(self._entries[i].terms for i in ids):
                bm25 = bm25s.BM25(k1=self._k1, b=self._b)
                bm25.index([self._entries[i].terms for i in ids], show_progress=False)
            else:
                bm25 = None
            self._bm25, self._ids, self._postings, self._dirty = bm25, ids, None, False

    def _metadata_postings(self) -> _Postings:
        """Where each (field, value) of the stored metadata occurs, built once per build.

        Its size is that of the corpus's metadata, whatever the queries ask: a filter on a
        field no chunk has costs nothing, and none adds to what is kept.
        """
        if self._postings is None:
            postings: dict[str, dict[_Value, list[int]]] = {}
            for position, chunk_id in enumerate(self._ids):
                for field, value in self._entries[chunk_id].metadata.items():
                    if isinstance(value, str | int | float):
                        postings.setdefault(field, {}).setdefault(_typed(value), []).append(
                            position
                        )
            self._postings = postings
        return self._postings

    def _mask(self, filters: Mapping[str, Any]) -> npt.NDArray[np.bool_]:
        """The chunks that satisfy every condition: per field, the union of its values'
        postings, so the cost is what matches, not the corpus size times the fields."""
        postings = self._metadata_postings()
        mask = np.ones(len(self._ids), dtype=bool)
        for field, condition in filters.items():
            allowed = condition["$in"] if isinstance(condition, Mapping) else [condition]
            by_value = postings.get(field, {})
            matching = np.zeros(len(self._ids), dtype=bool)
            for value in allowed:
                matching[by_value.get(_typed(value), [])] = True
            mask &= matching
        return mask

    def search(self, query: str, k: int, filters: Mapping[str, Any] | None = None) -> LexicalResult:
        """Up to `k` chunks with a positive BM25 score for `query`, best first."""
        keyword_query = self._analyzer.is_keyword_query(query)
        with self._lock:
            self.build()
            if self._bm25 is None:
                return LexicalResult([], keyword_query)
            terms = self.analyze(query)
            token_ids = self._bm25.get_tokens_ids(terms)
            if not token_ids:
                return LexicalResult([], keyword_query)
            scores = self._bm25.get_scores_from_ids(token_ids)
            mask = self._mask(filters) if filters else None
            if mask is not None:
                scores = np.where(mask, scores, 0.0)
            matches = 0
            distinct = sorted(set(token_ids))
            if keyword_query and len(distinct) == len(set(terms)):  # no term unknown
                matches = self._chunks_with_all(distinct, mask)
            ids = self._ids
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        hits = [LexicalHit(ids[i], float(scores[i])) for i in top if scores[i] > 0]
        return LexicalResult(hits, keyword_query, matches)

    def _chunks_with_all(self, token_ids: list[int], mask: npt.NDArray[np.bool_] | None) -> int:
        """How many chunks (inside `mask`) contain every one of these distinct terms."""
        # bm25s keeps one posting list (chunk positions) per term in a CSC layout; intersecting
        # from the shortest list costs no more than scoring the query did.
        indptr, indices = self._bm25.scores["indptr"], self._bm25.scores["indices"]
        postings = sorted((indices[indptr[t] : indptr[t + 1]] for t in token_ids), key=len)
        common = postings[0]
        for other in postings[1:]:
            common = np.intersect1d(common, other, assume_unique=True)
        if mask is not None:
            return int(mask[common].sum())
        return len(common)


class LexicalStore(Protocol):
    """What the rest of rag_core needs of a lexical index, wherever it lives: in this process
    (`TantivyLexicalIndex`) or in the storage tier's index server (`RemoteLexicalIndex`)."""

    def __len__(self) -> int: ...

    def upsert(self, chunks: Iterable[tuple[str, str, dict[str, Any]]]) -> None: ...

    def delete_document(self, document_id: str, from_position: int = 0) -> None: ...

    def delete_chunks(self, chunk_ids: Iterable[str]) -> None: ...

    def chunk_ids_of(self, document_id: str) -> set[str]: ...

    def search(
        self, query: str, k: int, filters: Mapping[str, Any] | None = None
    ) -> LexicalResult: ...

    def close(self) -> None: ...
