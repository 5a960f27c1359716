"""How a configured index identity is compared with the one an index records, in words."""

from __future__ import annotations

from dataclasses import replace

import pytest

from rag_core.errors import RagError
from rag_core.index_identity import IndexIdentity, IndexMismatch, differences

BUILT = IndexIdentity(
    embedding_provider="local",
    embedding_model="all-MiniLM-L6-v2",
    dimension=384,
    normalized=True,
    chunk_size=256,
    chunk_overlap=32,
    analyzer="english-snowball-bm25s-stopwords-v1",
    built_at="2026-12-01T10:00:00+00:00",
)

CASES = [
    ("same configuration, built later", replace(BUILT, built_at="2026-12-07T00:00:00+00:00"), []),
    (
        "another model of the same dimension",
        replace(BUILT, embedding_provider="openai-compatible", embedding_model="e5-small"),
        [("embedding", ["'all-MiniLM-L6-v2' (local", "'e5-small' (openai-compatible"])],
    ),
    (
        "another dimension",
        replace(BUILT, dimension=768),
        [("embedding", ["384 dimensions", "768 dimensions"])],
    ),
    (
        "vectors no longer normalised",
        replace(BUILT, normalized=False),
        [("embedding", ["384 dimensions, normalised)", "not normalised"])],
    ),
    (
        "another chunk size",
        replace(BUILT, chunk_size=512),
        [("chunking", ["chunked at 256 tokens with 32 overlap", "512 tokens with 32 overlap"])],
    ),
    (
        "another overlap",
        replace(BUILT, chunk_overlap=0),
        [("chunking", ["256 tokens with 32 overlap", "256 tokens with 0 overlap"])],
    ),
    (
        "another analyzer",
        replace(BUILT, analyzer="english-v2"),
        [("analyzer", ["'english-snowball-bm25s-stopwords-v1'", "'english-v2'"])],
    ),
    (
        "model and chunking both changed",
        replace(BUILT, embedding_model="bge-small", chunk_size=128, chunk_overlap=16),
        [
            ("embedding", ["'all-MiniLM-L6-v2'", "'bge-small'"]),
            ("chunking", ["256 tokens with 32 overlap", "128 tokens with 16 overlap"]),
        ],
    ),
]


@pytest.mark.parametrize(("case", "configured", "expected"), CASES, ids=[c[0] for c in CASES])
def test_differences_name_both_sides_of_each_changed_aspect(
    case: str, configured: IndexIdentity, expected: list[tuple[str, list[str]]]
) -> None:
    found = differences(configured, BUILT)

    assert [d.aspect for d in found] == [aspect for aspect, _ in expected], case
    for difference, (_, phrases) in zip(found, expected, strict=True):
        recorded_side, configured_side = difference.message.split("; this deployment")
        assert phrases[0] in recorded_side, difference.message
        assert phrases[1] in configured_side, difference.message


def test_a_mismatch_carries_both_identities_and_reads_as_one_sentence() -> None:
    configured = replace(BUILT, embedding_model="e5-small", chunk_size=512)
    mismatch = IndexMismatch(configured, BUILT, tuple(differences(configured, BUILT)))

    error = mismatch.error()

    assert "'all-MiniLM-L6-v2'" in str(error)
    assert "'e5-small'" in str(error)
    assert "512 tokens" in str(error)
    assert error.details["recorded"]["embedding_model"] == "all-MiniLM-L6-v2"
    assert error.details["configured"]["embedding_model"] == "e5-small"
    assert [d["aspect"] for d in error.details["differences"]] == ["embedding", "chunking"]


def test_an_identity_survives_its_stored_forms() -> None:
    assert IndexIdentity.from_json(BUILT.to_json()) == BUILT
    assert IndexIdentity.from_record(BUILT.record()) == BUILT


@pytest.mark.parametrize("stored", ["not json", "[1, 2]", '{"embedding_model": "x"}'])
def test_an_unreadable_record_is_an_error_not_a_fresh_index(stored: str) -> None:
    with pytest.raises(RagError, match="recorded identity"):
        IndexIdentity.from_json(stored)
