"""What the tantivy index adds to the lexical specification: it persists, writes never hold
queries, and its ranking is bm25s's."""

from __future__ import annotations

import random
import threading
from pathlib import Path

import pytest

from rag_core.errors import RagError
from rag_core.tantivy_lexical_index import TantivyLexicalIndex

WORDS = [f"term{i}" for i in range(400)]


def corpus(size: int, seed: int = 7) -> list[tuple[str, str, dict[str, object]]]:
    rng = random.Random(seed)
    weights = [1 / (rank + 1) for rank in range(len(WORDS))]
    return [
        (
            f"doc{i // 3}::{i % 3}",
            " ".join(rng.choices(WORDS, weights, k=rng.randint(30, 80))),
            {"document_id": f"doc{i // 3}", "position": i % 3, "team": rng.choice("ab")},
        )
        for i in range(size)
    ]


def test_an_index_on_disk_is_there_after_a_restart(tmp_path: Path) -> None:
    first = TantivyLexicalIndex(tmp_path / "lexical")
    first.upsert(corpus(30))
    before = [h.id for h in first.search("term3 term9", 10).hits]
    first.close()

    reopened = TantivyLexicalIndex(tmp_path / "lexical")

    assert len(reopened) == 30
    assert [h.id for h in reopened.search("term3 term9", 10).hits] == before


def test_queries_are_answered_while_a_large_write_is_in_progress() -> None:
    index = TantivyLexicalIndex()
    index.upsert(corpus(200))
    writing = threading.Thread(target=index.upsert, args=(corpus(20_000, seed=1),))

    writing.start()
    answers = [index.search("term1 term2", 5).hits for _ in range(20)]
    still_writing = writing.is_alive()
    writing.join()

    assert still_writing, "the write finished before the queries: make it larger"
    assert all(answers)


def test_it_ranks_as_bm25s_does_on_the_same_terms() -> None:
    import bm25s

    chunks = corpus(600)
    tantivy_index = TantivyLexicalIndex()
    tantivy_index.upsert(chunks)
    reference = bm25s.BM25(k1=1.2, b=0.75)
    reference.index([tantivy_index.analyze(text) for _, text, _ in chunks], show_progress=False)
    rng = random.Random(3)
    overlap = []
    for _ in range(50):
        query = " ".join(rng.choices(WORDS[:100], k=rng.randint(1, 5)))
        scores = reference.get_scores(tantivy_index.analyze(query))
        best = sorted(range(len(chunks)), key=lambda i: -scores[i])[:10]
        expected = {chunks[i][0] for i in best if scores[i] > 0}
        found = {h.id for h in tantivy_index.search(query, 10).hits}
        overlap.append(len(expected & found) / max(len(expected), 1))

    # Document lengths are stored in one byte by tantivy, so near-ties may swap at the cut.
    assert sum(overlap) / len(overlap) >= 0.9


def test_chunk_ids_of_a_document_are_what_was_written_minus_what_was_deleted() -> None:
    index = TantivyLexicalIndex()
    index.upsert(corpus(9))
    index.delete_document("doc1", from_position=1)

    assert index.chunk_ids_of("doc1") == {"doc1::0"}
    assert index.chunk_ids_of("doc0") == {"doc0::0", "doc0::1", "doc0::2"}
    assert index.chunk_ids_of("nothing") == set()


def test_a_boolean_filter_does_not_match_the_number_one_but_1_matches_1_0() -> None:
    index = TantivyLexicalIndex()
    index.upsert(
        [
            ("a::0", "shared words", {"document_id": "a", "position": 0, "flag": True}),
            ("b::0", "shared words", {"document_id": "b", "position": 0, "flag": 1}),
            ("c::0", "shared words", {"document_id": "c", "position": 0, "flag": 2.5}),
        ]
    )

    assert [h.id for h in index.search("shared", 5, {"flag": True}).hits] == ["a::0"]
    assert [h.id for h in index.search("shared", 5, {"flag": 1.0}).hits] == ["b::0"]
    assert {h.id for h in index.search("shared", 5, {"flag": {"$in": [2.5, True]}}).hits} == {
        "a::0",
        "c::0",
    }


def test_a_second_writer_on_the_same_directory_is_a_clear_error(tmp_path: Path) -> None:
    first = TantivyLexicalIndex(tmp_path / "lexical")

    with pytest.raises(RagError, match="open in another process"):
        TantivyLexicalIndex(tmp_path / "lexical")
    first.close()
