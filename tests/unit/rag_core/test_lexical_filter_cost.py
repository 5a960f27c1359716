"""What a filtered lexical search keeps is bounded by the corpus, never by the queries."""

from __future__ import annotations

import gc
import tracemalloc

from rag_core.tantivy_lexical_index import TantivyLexicalIndex

CHUNKS = 4000


def corpus_index() -> TantivyLexicalIndex:
    index = TantivyLexicalIndex()
    index.upsert(
        (
            f"d{n}::0",
            f"replica scaling notes number {n}",
            {"document_id": f"d{n}", "position": 0, "team": ("ops", "dev")[n % 2], "n": n},
        )
        for n in range(CHUNKS)
    )
    return index


def retained_bytes_after(index: TantivyLexicalIndex, searches: int) -> int:
    """Bytes still allocated after `searches` searches, each filtering on a new field."""
    index.search("replica", 5, {"team": "ops"})  # the corpus's own metadata, built once
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for n in range(searches):
            index.search("replica", 5, {f"field{n}": "x", "team": {"$in": ["ops", "dev"]}})
        gc.collect()
        return tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()


def test_filters_on_fields_no_chunk_has_leave_nothing_behind() -> None:
    index = corpus_index()
    # The bm25s index once cached a column of every chunk per field asked: 200 fields x 4000
    # chunks kept 6 MB here (60,000 fields in one request kept 700 MB in a real corpus).
    # tantivy runs a filter as a term set over the postings and keeps nothing.
    assert retained_bytes_after(index, searches=200) < 256 * 1024


def test_a_filter_on_an_unknown_field_matches_nothing() -> None:
    index = corpus_index()
    assert index.search("replica", 5, {"no_such_field": "ops"}).hits == []


def test_equality_and_in_filters_select_exactly_the_matching_chunks() -> None:
    index = corpus_index()
    ops = index.search("replica", CHUNKS, {"team": "ops"}).hits
    assert len(ops) == CHUNKS // 2
    some = index.search("replica", CHUNKS, {"n": {"$in": [1, 2, 3, 99_999]}, "team": "dev"})
    assert sorted(h.id for h in some.hits) == ["d1::0", "d3::0"]


def test_a_boolean_filter_does_not_match_the_number_one() -> None:
    index = TantivyLexicalIndex()
    index.upsert(
        [
            ("a::0", "replica notes", {"document_id": "a", "flag": 1}),
            ("b::0", "replica notes", {"document_id": "b", "flag": True}),
        ]
    )
    assert [h.id for h in index.search("replica", 5, {"flag": True}).hits] == ["b::0"]
    assert [h.id for h in index.search("replica", 5, {"flag": {"$in": [1]}}).hits] == ["a::0"]


def test_a_write_is_seen_by_the_next_filtered_search() -> None:
    index = corpus_index()
    assert index.search("replica", 5, {"team": "sec"}).hits == []
    index.upsert([("s::0", "replica runbook", {"document_id": "s", "team": "sec"})])
    assert [h.id for h in index.search("replica", 5, {"team": "sec"}).hits] == ["s::0"]
