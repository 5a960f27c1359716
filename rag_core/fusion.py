"""Fusing a dense and a lexical ranking into one.

Plain reciprocal-rank fusion (the baseline) throws the scores away. The default here keeps
them: each method's scores are standardised over its own candidates (z-scores), and the two
are mixed with weights that follow how decisively each method separates its best candidates
on this query. BM25's list holds only the chunks that share a term with the query; the
candidates it left out count as the zeros they scored, so a specific query's few strong
matches stand out as they should. A candidate missing from one list gets that list's lowest
z-score (for BM25, the z-score of 0). A method whose top scores stand far above its own
pack gets more say; a method whose scores are flat (it does not really know) gets less. The
weight grows with the square of that decisiveness, so a clearly surer method dominates the
mix instead of being averaged down by a weaker one; bench/fusion_robustness.py measures this
on deliberately weakened methods.

The prior share of the dense side depends on the query's shape (`query_dense_prior`). A
keyword query ("btrfs heatmap") is a lookup: a dense model reads meaning into a few
unrelated words and can look as sure of a wrong answer as of a right one, while BM25 matches
them exactly. Such a query leans on BM25, and leans hard when its terms occur together in only
a few chunks, which is as precise as lexical evidence gets.
"""

from __future__ import annotations

import math
from collections.abc import Mapping


def reciprocal_rank_fusion(
    dense: Mapping[str, float], lexical: Mapping[str, float], k: int = 60
) -> dict[str, float]:
    """Plain RRF: Σ 1 / (k + rank) over the two rankings (the baseline)."""
    fused: dict[str, float] = {}
    for ranking in (dense, lexical):
        ordered = sorted(ranking.items(), key=lambda item: -item[1])
        for rank, (key, _) in enumerate(ordered, start=1):
            fused[key] = fused.get(key, 0.0) + 1.0 / (k + rank)
    return fused


def standardised(scores: Mapping[str, float], depth: int = 0) -> tuple[dict[str, float], float]:
    """Z-scores of a candidate list and the z-score given to candidates missing from it.

    With `depth` greater than the list's length, the list is the top `depth` of a method
    whose unlisted candidates score 0 (BM25 lists only chunks sharing a term with the query):
    those zeros count in the mean and the spread, and a missing candidate gets the z-score
    of 0. Standardised over its few matches alone, a specific query's handful of lexical hits
    would look flat (two hits are always z = ±1), however far above the rest they stand.
    """
    values = list(scores.values())
    count = max(depth, len(values))
    mean = sum(values) / count
    spread = math.sqrt(
        (sum((v - mean) ** 2 for v in values) + (count - len(values)) * mean**2) / count
    )
    if spread <= 1e-12:
        return {key: 0.0 for key in scores}, 0.0
    z = {key: (value - mean) / spread for key, value in scores.items()}
    floor = -mean / spread if count > len(values) else min(z.values())
    return z, floor


#: Exponent on decisiveness in the fusion weights (1 = proportional). Chosen with
#: bench/fusion_robustness.py: 2 kept SciFact at 0.729 and moved every weakened-method
#: scenario closer to the better single method than 1 did; higher powers cost SciFact.
DECISIVENESS_POWER = 2.0


#: The dense prior of a keyword query, as a share of the deployment's prior.
KEYWORD_PRIOR_SHARE = 0.7
#: The share when the keyword query's terms occur together in 1 to LOOKUP_MATCHES chunks.
LOOKUP_PRIOR_SHARE = 0.1
LOOKUP_MATCHES = 10
# Chosen on a grid (keyword queries of at most 4, 5 or 6 words; lookups of at most 3 or 10
# chunks; several shares) scored over the candidate lists of bench/fusion_robustness.py's
# scenarios and four corpora of bench/extra_corpora.py, for the best worst case. On queries
# of three rare words of a Debian package description hybrid had been 0.130 below BM25
# (dense 0.357, BM25 0.961) and is now within 0.01; SciFact, where almost no query is a
# keyword query, is unchanged. A natural question keeps the deployment's prior as it is.


def query_dense_prior(base: float, keyword_query: bool, all_terms_matches: int) -> float:
    """The dense side's prior share for one query: `base` (the deployment's
    `fusion_dense_weight`) for a sentence, less for a keyword query, much less for a keyword
    query whose terms occur together in only a few chunks."""
    if not keyword_query:
        return base
    if 1 <= all_terms_matches <= LOOKUP_MATCHES:
        return base * LOOKUP_PRIOR_SHARE
    return base * KEYWORD_PRIOR_SHARE


def decisiveness(z: Mapping[str, float], top: int = 3) -> float:
    """How far the best candidates stand above the list: mean z-score of the top few."""
    best = sorted(z.values(), reverse=True)[:top]
    return max(sum(best) / len(best), 0.0) if best else 0.0


def adaptive_fusion(
    dense: Mapping[str, float],
    lexical: Mapping[str, float],
    dense_prior: float = 0.5,
    depth: int = 0,
) -> dict[str, float]:
    """Weighted sum of z-scores, weights ∝ prior * decisiveness² of each method on this query.

    `depth` is how many candidates each side was asked for; the lexical list, which holds
    only chunks with a positive score, is standardised as if padded with zeros to it.
    """
    if not dense or not lexical:
        return dict(dense or lexical)
    dense_z, dense_floor = standardised(dense)
    lexical_z, lexical_floor = standardised(lexical, depth)
    dense_weight = dense_prior * decisiveness(dense_z) ** DECISIVENESS_POWER
    lexical_weight = (1.0 - dense_prior) * decisiveness(lexical_z) ** DECISIVENESS_POWER
    total = dense_weight + lexical_weight
    if total <= 0.0:
        dense_weight, lexical_weight = dense_prior, 1.0 - dense_prior
    else:
        dense_weight, lexical_weight = dense_weight / total, lexical_weight / total
    return {
        key: dense_weight * dense_z.get(key, dense_floor)
        + lexical_weight * lexical_z.get(key, lexical_floor)
        for key in dense.keys() | lexical.keys()
    }


def fuse(
    dense: Mapping[str, float],
    lexical: Mapping[str, float],
    dense_prior: float = 0.5,
    depth: int = 0,
) -> dict[str, float]:
    """The default fusion of hybrid mode (see the module docstring).

    Measured on BEIR SciFact (bench/retrieval_quality.py): dense 0.657, BM25 0.683, plain RRF
    0.707, this fusion 0.729 nDCG@10. It was chosen over min-max and fixed-weight z-score
    mixes because it stays nearest the better method when one side is made much weaker
    (bench/fusion_robustness.py). A weak dense *model* whose scores look as confident as a
    good one's cannot be told apart per query; there `RagSettings.fusion_dense_weight`
    (a RagDeployment's `spec.retrieval.fusionDenseWeight`) tilts the prior toward the lexical
    side.
    """
    return adaptive_fusion(dense, lexical, dense_prior, depth)
