"""Hybrid fusion keeps score information: decisive methods lead, agreement wins."""

from __future__ import annotations

import pytest

from rag_core.fusion import (
    LOOKUP_MATCHES,
    adaptive_fusion,
    decisiveness,
    query_dense_prior,
    reciprocal_rank_fusion,
    standardised,
)


def ranking(scores: dict[str, float]) -> list[str]:
    return sorted(scores, key=lambda key: -scores[key])


def test_rrf_adds_reciprocal_ranks() -> None:
    fused = reciprocal_rank_fusion({"a": 0.9, "b": 0.8}, {"b": 12.0, "c": 3.0}, k=60)
    assert fused["b"] == pytest.approx(1 / 62 + 1 / 61)
    assert ranking(fused)[0] == "b"


def test_standardised_scores_have_zero_mean_and_a_floor_for_the_missing() -> None:
    z, floor = standardised({"a": 3.0, "b": 1.0, "c": 2.0})
    assert sum(z.values()) == pytest.approx(0.0)
    assert floor == pytest.approx(z["b"])
    flat, flat_floor = standardised({"a": 1.0, "b": 1.0})
    assert flat == {"a": 0.0, "b": 0.0}
    assert flat_floor == 0.0


def test_a_candidate_both_methods_like_beats_one_only_a_single_method_likes() -> None:
    dense = {"both": 0.80, "dense_only": 0.82, **{f"d{n}": 0.5 - n / 100 for n in range(20)}}
    lexical = {"both": 9.0, "lexical_only": 9.5, **{f"l{n}": 3.0 - n / 10 for n in range(20)}}
    assert ranking(adaptive_fusion(dense, lexical))[0] == "both"


def test_a_decisive_method_outweighs_a_flat_one() -> None:
    # Dense clearly separates its best candidate; lexical scores are nearly flat.
    dense = {"x": 0.9, **{f"d{n}": 0.3 + n / 1000 for n in range(30)}}
    lexical = {"y": 5.02, **{f"l{n}": 5.0 + n / 1000 for n in range(20)}, "x": 4.9}
    assert ranking(adaptive_fusion(dense, lexical))[0] == "x"


def test_one_empty_side_returns_the_other_ranking() -> None:
    assert adaptive_fusion({}, {"a": 2.0, "b": 1.0}) == {"a": 2.0, "b": 1.0}
    assert adaptive_fusion({"a": 0.5}, {}) == {"a": 0.5}


def test_each_method_weighs_in_with_the_square_of_its_decisiveness() -> None:
    dense = {"a": 3.0, "b": 1.0, "c": 0.0, "d": 0.0}
    lexical = {"a": 1.0, "b": 3.0, "c": 0.0, "d": 0.0, "e": 0.0, "f": 0.0}
    dense_z, _ = standardised(dense)
    lexical_z, _ = standardised(lexical)
    dense_decisiveness = decisiveness(dense_z)
    lexical_decisiveness = decisiveness(lexical_z)
    share = dense_decisiveness**2 / (dense_decisiveness**2 + lexical_decisiveness**2)

    fused = adaptive_fusion(dense, lexical)

    assert fused["a"] == pytest.approx(share * dense_z["a"] + (1 - share) * lexical_z["a"])
    assert fused["b"] == pytest.approx(share * dense_z["b"] + (1 - share) * lexical_z["b"])


def test_lexical_scores_are_standardised_with_the_unlisted_candidates_as_zeros() -> None:
    # BM25 lists only chunks sharing a term with the query; at a depth of 5 candidates the
    # three it did not list scored 0.
    z, floor = standardised({"a": 4.0, "b": 2.0}, depth=5)
    mean, spread = 6.0 / 5, (((4.0 - 1.2) ** 2 + (2.0 - 1.2) ** 2 + 3 * 1.2**2) / 5) ** 0.5
    assert z["a"] == pytest.approx((4.0 - mean) / spread)
    assert floor == pytest.approx(-mean / spread)
    # A full list is standardised as it is.
    assert standardised({"a": 4.0, "b": 2.0}, depth=2) == standardised({"a": 4.0, "b": 2.0})


def test_a_specific_query_s_few_lexical_matches_count_as_decisive() -> None:
    # A query made of rare terms: BM25 matches three chunks of 50 and clearly prefers "x";
    # dense, unsure, prefers "y" by a little. Alone, two or three hits always look flat
    # (z-scores near ±1); among the 50 candidates they stand far above the rest.
    dense = {"y": 0.45, "x": 0.40, **{f"d{n}": 0.42 - n / 500 for n in range(48)}}
    lexical = {"x": 9.0, "y": 3.1, "z": 3.0}
    assert ranking(adaptive_fusion(dense, lexical))[0] == "y"
    assert ranking(adaptive_fusion(dense, lexical, depth=len(dense)))[0] == "x"


def test_keyword_queries_lean_on_bm25_and_exact_lookups_lean_hard() -> None:
    assert query_dense_prior(0.5, keyword_query=False, all_terms_matches=1) == 0.5
    keyword = query_dense_prior(0.5, keyword_query=True, all_terms_matches=0)
    lookup = query_dense_prior(0.5, keyword_query=True, all_terms_matches=1)
    assert lookup < keyword < 0.5
    assert query_dense_prior(0.5, True, LOOKUP_MATCHES) == lookup
    assert query_dense_prior(0.5, True, LOOKUP_MATCHES + 1) == keyword
    # The deployment's own tilt carries through.
    assert query_dense_prior(0.8, True, 1) > lookup


def test_a_keyword_lookup_s_exact_match_beats_a_dense_side_sure_of_something_else() -> None:
    # Dense reads meaning into three unrelated words and is as sure as it ever is; BM25 has
    # the one chunk holding all three.
    dense = {"wrong": 0.62, **{f"d{n}": 0.35 - n / 1000 for n in range(50)}, "exact": 0.36}
    lexical = {"exact": 9.0, "wrong": 2.0, **{f"l{n}": 6.0 - n / 10 for n in range(8)}}
    sentence = adaptive_fusion(dense, lexical, query_dense_prior(0.5, False, 1), depth=51)
    lookup = adaptive_fusion(dense, lexical, query_dense_prior(0.5, True, 1), depth=51)
    assert ranking(sentence)[0] == "wrong"
    assert ranking(lookup)[0] == "exact"
