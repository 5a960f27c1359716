"""What every lexical index shares: the analysis of text into BM25 terms, the shape of a
search's result, and the interface the rest of rag_core uses (`LexicalStore`).

The engine is tantivy (`rag_core.tantivy_lexical_index`), in this process or behind the index
server (`rag_core.lexical_client`). A chunk with no terms (a lone digit, only stopwords or
punctuation) is stored and simply never matches lexically; dense retrieval can still find it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

_WORD = re.compile(r"(?u)\b\w\w+\b")
_ANY_WORD = re.compile(r"(?u)\w+")

#: The version of `Analyzer`'s analysis, recorded with every index: change it whenever the
#: terms a text gives change (another stemmer, stopword list or tokenisation).
ANALYZER_VERSION = "english-snowball-bm25s-stopwords-v1"
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

    def recorded_identity(self) -> dict[str, Any] | None:
        """The identity of what built this index (`rag_core.index_identity`), or None."""
        ...

    def record_identity(self, identity: Mapping[str, Any]) -> None:
        """Record the identity of what builds this index (replaces an earlier one)."""
        ...
