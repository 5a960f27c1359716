"""Confidence of an answer in [0, 1], from retrieval similarity and grounding."""

from __future__ import annotations

from collections.abc import Sequence

#: Cosine similarity (all-MiniLM-L6-v2) at or under which a match is noise, and at or above
#: which it is a strong match; similarities in between are mapped linearly onto [0, 1].
NOISE_SIMILARITY = 0.2
STRONG_SIMILARITY = 0.7


def _calibrated(similarity: float) -> float:
    span = STRONG_SIMILARITY - NOISE_SIMILARITY
    return min(1.0, max(0.0, (similarity - NOISE_SIMILARITY) / span))


def answer_confidence(similarities: Sequence[float], grounding: float) -> float:
    """Confidence = 0.5·c(s₁) + 0.2·c(mean(s₁..s₃)) + 0.3·g, rounded to 4 places.

    s₁ ≥ s₂ ≥ s₃ are the best source similarities (cosine, [0, 1]); c maps a similarity onto
    [0, 1] linearly between NOISE_SIMILARITY (0.2 → 0) and STRONG_SIMILARITY (0.7 → 1); g is the
    grounding score of the answer (share of its sentences supported by the sources, [0, 1]).
    The best match dominates, agreement among the top three adds support, and an answer that
    strays from its sources loses up to 0.3. No sources means confidence 0.
    """
    if not similarities:
        return 0.0
    ranked = sorted(similarities, reverse=True)
    best = _calibrated(ranked[0])
    support = _calibrated(sum(ranked[:3]) / len(ranked[:3]))
    grounding = min(1.0, max(0.0, grounding))
    return round(0.5 * best + 0.2 * support + 0.3 * grounding, 4)
