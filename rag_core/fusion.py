"""Fusing a dense and a lexical ranking into one (placeholder until measured)."""

from __future__ import annotations

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


def fuse(dense: Mapping[str, float], lexical: Mapping[str, float]) -> dict[str, float]:
    """The default fusion."""
    return reciprocal_rank_fusion(dense, lexical)
