"""Grounding, confidence and the extractive answerer."""

from __future__ import annotations

import pytest

from rag_core.answers import Source
from rag_core.confidence import answer_confidence
from rag_core.extractive import NO_ANSWER, extractive_answer
from rag_core.grounding import cited_numbers, grounding_score, split_sentences

SOURCES = [
    Source(
        "Chroma stores embeddings. The HNSW index uses cosine distance. Backups run nightly.",
        0.7,
        {},
    ),
    Source("Redis keeps conversation history for an hour. It is optional.", 0.5, {}),
]


def test_sentences_split_on_end_punctuation_and_newlines() -> None:
    assert split_sentences("One is here. Two is there!\nThree") == [
        "One is here.",
        "Two is there!",
        "Three",
    ]


def test_citations_are_read_from_brackets() -> None:
    assert cited_numbers("a [1] b [2][3] c [x]") == [1, 2, 3]


def test_grounding_is_the_share_of_supported_sentences() -> None:
    grounded = "The HNSW index uses cosine distance [1]. Redis keeps conversation history [2]."
    assert grounding_score(grounded, SOURCES) == 1.0
    half = "The HNSW index uses cosine distance [1]. Penguins migrate across frozen deserts."
    assert grounding_score(half, SOURCES) == 0.5
    wrong_citation = "Redis keeps conversation history for an hour [1]."
    assert grounding_score(wrong_citation, SOURCES) == 0.0


@pytest.mark.parametrize(
    ("similarities", "grounding", "expected"),
    [
        ([], 1.0, 0.0),
        ([0.2, 0.1], 0.0, 0.0),
        ([0.7, 0.7, 0.7], 1.0, 1.0),
        ([0.45], 1.0, 0.5 * 0.5 + 0.2 * 0.5 + 0.3),
    ],
)
def test_confidence_follows_the_documented_formula(
    similarities: list[float], grounding: float, expected: float
) -> None:
    assert answer_confidence(similarities, grounding) == pytest.approx(expected)


def test_confidence_rises_with_similarity_and_grounding() -> None:
    assert answer_confidence([0.6], 1.0) > answer_confidence([0.4], 1.0)
    assert answer_confidence([0.6], 1.0) > answer_confidence([0.6], 0.2)
    assert 0.0 <= answer_confidence([5.0], 9.0) <= 1.0


def test_extractive_answer_quotes_the_best_sentences_with_citations() -> None:
    answer = extractive_answer("Which distance does the HNSW index use?", SOURCES)
    assert answer.startswith("The HNSW index uses cosine distance. [1]")
    assert grounding_score(answer, SOURCES) == 1.0


def test_extractive_answer_cites_the_source_each_sentence_came_from() -> None:
    answer = extractive_answer("How long does Redis keep conversation history?", SOURCES)
    assert "Redis keeps conversation history for an hour. [2]" in answer


def test_without_sources_the_answer_says_nothing_relevant_was_found() -> None:
    assert extractive_answer("anything", []) == NO_ANSWER
