"""BM25 over stemmed title + text, kept consistent through upserts and deletes, filterable.

One specification for every place the index lives: in this process, and behind the index
server (the same engine reached over HTTP, in tests/integration/index).
"""

from __future__ import annotations

from typing import Protocol

import pytest

from rag_core.lexical_index import LexicalResult
from rag_core.tantivy_lexical_index import TantivyLexicalIndex


class Index(Protocol):
    def __len__(self) -> int: ...
    def analyze(self, text: str) -> list[str]: ...
    def upsert(self, chunks: list[tuple[str, str, dict[str, object]]]) -> None: ...
    def replace_all(self, chunks: list[tuple[str, str, dict[str, object]]]) -> None: ...
    def delete_document(self, document_id: str, from_position: int = 0) -> None: ...
    def chunk_ids_of(self, document_id: str) -> set[str]: ...
    def search(
        self, query: str, k: int, filters: dict[str, object] | None = None
    ) -> LexicalResult: ...


ENGINES = pytest.mark.parametrize("engine", [TantivyLexicalIndex])


def chunk(cid: str, text: str, **metadata: object) -> tuple[str, str, dict[str, object]]:
    document_id, position = cid.split("::")
    return cid, text, {"document_id": document_id, "position": int(position), **metadata}


def index_with(engine: type[Index], *chunks: tuple[str, str, dict[str, object]]) -> Index:
    index = engine()
    index.upsert(list(chunks))
    return index


@ENGINES
def test_stemming_matches_word_forms_and_stopwords_are_ignored(engine: type[Index]) -> None:
    index = index_with(
        engine,
        chunk("a::0", "The scheduler schedules pods onto nodes"),
        chunk("b::0", "Backups of the database run nightly"),
    )
    hits = index.search("scheduling the pod", k=5).hits
    assert [h.id for h in hits] == ["a::0"]
    assert index.analyze("The Pods are Running") == ["pod", "run"]


@ENGINES
def test_a_query_with_no_known_term_finds_nothing(engine: type[Index]) -> None:
    index = index_with(engine, chunk("a::0", "Pods run containers"))
    assert index.search("zebra", k=5).hits == []
    assert index.search("the", k=5).hits == []


@ENGINES
def test_upsert_replaces_a_chunk_and_delete_removes_a_document(engine: type[Index]) -> None:
    index = index_with(
        engine, chunk("a::0", "old words about volumes"), chunk("a::1", "more volumes")
    )
    index.upsert([chunk("a::0", "new words about ingress")])
    assert [h.id for h in index.search("ingress", 5).hits] == ["a::0"]
    assert [h.id for h in index.search("volumes", 5).hits] == ["a::1"]
    index.delete_document("a", from_position=1)
    assert index.search("volumes", 5).hits == []
    index.delete_document("a")
    assert len(index) == 0
    assert index.search("ingress", 5).hits == []


@ENGINES
def test_filters_are_applied_inside_the_search(engine: type[Index]) -> None:
    index = index_with(
        engine,
        chunk("a::0", "replica scaling guide", team="ops"),
        chunk("b::0", "replica scaling notes", team="dev"),
        chunk("c::0", "replica scaling faq", team="sec"),
    )
    assert [h.id for h in index.search("replica", 1, {"team": "dev"}).hits] == ["b::0"]
    found = {h.id for h in index.search("replica", 5, {"team": {"$in": ["ops", "sec"]}}).hits}
    assert found == {"a::0", "c::0"}
    assert index.search("replica", 5, {"team": "nobody"}).hits == []


@ENGINES
def test_replace_all_resets_the_index(engine: type[Index]) -> None:
    index = index_with(engine, chunk("a::0", "alpha"))
    index.replace_all([chunk("b::0", "beta")])
    assert index.search("alpha", 5).hits == []
    assert [h.id for h in index.search("beta", 5).hits] == ["b::0"]


@ENGINES
def test_chunks_without_terms_are_kept_but_never_match(engine: type[Index]) -> None:
    index = index_with(engine, chunk("a::0", "0"), chunk("b::0", "the of and"))
    assert index.search("0", k=5).hits == []
    assert index.search("anything", k=5).hits == []
    assert len(index) == 2
    index.upsert([chunk("c::0", "Pods run containers")])
    assert [h.id for h in index.search("pods", k=5).hits] == ["c::0"]
    assert index.chunk_ids_of("a") == {"a::0"}


@ENGINES
def test_a_keyword_query_counts_the_chunks_holding_all_its_terms(engine: type[Index]) -> None:
    index = index_with(
        engine,
        chunk("a::0", "btrfs heatmap of block usage", team="ops"),
        chunk("b::0", "btrfs balance and scrub", team="ops"),
        chunk("c::0", "heatmap colours for grafana", team="dev"),
        chunk("d::0", "btrfs heatmaps rendered per subvolume", team="dev"),
    )
    found = index.search("btrfs heatmap", k=5)
    assert found.keyword_query
    assert found.all_terms_matches == 2  # "heatmaps" stems to the same term
    assert index.search("btrfs heatmap", 5, {"team": "dev"}).all_terms_matches == 1
    # A term that occurs nowhere: no chunk holds them all, though BM25 still finds some.
    unknown = index.search("btrfs zebra", k=5)
    assert unknown.keyword_query
    assert unknown.all_terms_matches == 0
    assert unknown.hits


@ENGINES
def test_a_sentence_is_not_a_keyword_query(engine: type[Index]) -> None:
    index = index_with(engine, chunk("a::0", "btrfs heatmap of block usage"))
    for query in ("how does btrfs draw a heatmap", "btrfs heatmap block usage report", "the"):
        found = index.search(query, k=5)
        assert not found.keyword_query, query
        assert found.all_terms_matches == 0, query
