"""Dense, lexical and hybrid retrieval over one collection, with filters applied inside each search.

Every function here blocks (Chroma calls, BM25 scoring); the facade runs them on its executor.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from rag_core.documents import document_of_chunk
from rag_core.fusion import fuse, query_dense_prior, reciprocal_rank_fusion
from rag_core.lexical_index import LexicalResult, LexicalStore
from rag_core.vector_store import ChromaStore, DenseHit


@dataclass(frozen=True)
class RetrievedChunk:
    """A ranked chunk: `similarity` is its cosine similarity to the query in [0, 1];
    `score` is the ranking score of the mode that found it (fused score in hybrid mode)."""

    id: str
    text: str
    metadata: dict[str, Any]
    similarity: float
    score: float


def clip_similarity(value: float) -> float:
    """Cosine similarity on the [0, 1] scale sources and thresholds use."""
    return float(min(1.0, max(0.0, value)))


class Retriever:
    """Runs the searches of one mode and turns the ranking into chunks with similarities."""

    def __init__(
        self,
        store: ChromaStore,
        lexical: LexicalStore,
        candidates: int = 100,
        dense_weight: float = 0.5,
    ) -> None:
        self._store = store
        self._lexical = lexical
        self.candidates = candidates
        self.dense_weight = dense_weight

    def dense(
        self,
        vector: npt.NDArray[np.float32],
        filters: Mapping[str, Any] | None,
        k: int,
        with_content: bool = True,
    ) -> list[DenseHit]:
        return self._store.query(vector, k, filters, with_content)

    def lexical(self, query: str, filters: Mapping[str, Any] | None, k: int) -> LexicalResult:
        return self._lexical.search(query, k, filters)

    def rank(
        self,
        mode: str,
        dense_hits: Sequence[DenseHit],
        lexical: LexicalResult,
    ) -> list[tuple[str, float]]:
        """Chunk ids with their ranking score, best first."""
        if mode == "dense":
            return [(h.id, h.similarity) for h in dense_hits]
        if mode == "lexical":
            return [(h.id, h.score) for h in lexical.hits]
        fused = fuse(
            {h.id: h.similarity for h in dense_hits},
            {h.id: h.score for h in lexical.hits},
            query_dense_prior(self.dense_weight, lexical.keyword_query, lexical.all_terms_matches),
            # The dense side returns every candidate it was asked for (as many as the
            # filters leave): the depth at which BM25's unlisted chunks scored 0.
            depth=len(dense_hits),
        )
        return sorted(fused.items(), key=lambda item: -item[1])

    def rank_documents(
        self,
        mode: str,
        dense_hits: Sequence[DenseHit],
        lexical: LexicalResult,
    ) -> list[str]:
        """Document ids, best first, each scored by its best chunk in `rank`'s ranking; mode
        "rrf" ranks with plain reciprocal-rank fusion instead (the evaluation baseline)."""
        if mode == "rrf":
            scores = reciprocal_rank_fusion(
                {h.id: h.similarity for h in dense_hits}, {h.id: h.score for h in lexical.hits}
            )
            ranking = sorted(scores.items(), key=lambda item: -item[1])
        else:
            ranking = self.rank(mode, dense_hits, lexical)
        documents = {h.id: h.metadata.get("document_id") for h in dense_hits}
        ordered: dict[str, None] = {}
        for chunk_id, _ in ranking:  # best first, so a document's first chunk is its best
            document = documents.get(chunk_id) or document_of_chunk(chunk_id)
            ordered.setdefault(str(document), None)
        return list(ordered)

    def materialise(
        self,
        ranking: Sequence[tuple[str, float]],
        dense_hits: Sequence[DenseHit],
        vector: npt.NDArray[np.float32],
        k: int,
        threshold: float,
    ) -> list[RetrievedChunk]:
        """The best `k` chunks whose similarity reaches `threshold`, with text and metadata.

        Dense hits fetched with their content are used as they are; the other chunks of the
        ranking are read from Chroma in one call per window (with embeddings, to compute the
        similarity of chunks only the lexical search found).
        """
        dense = {h.id: h for h in dense_hits}
        results: list[RetrievedChunk] = []
        position = 0
        while len(results) < k and position < len(ranking):
            window = ranking[position : position + max(k, 10)]
            position += len(window)
            known = {cid: dense[cid] for cid, _ in window if cid in dense and dense[cid].metadata}
            missing = [cid for cid, _ in window if cid not in known]
            if missing:
                stored, vectors = self._store.get_chunks(missing, with_embeddings=True)
                for index, chunk in enumerate(stored):
                    if chunk.id in dense:
                        similarity = dense[chunk.id].similarity
                    elif vectors is not None:
                        similarity = float(vectors[index] @ vector)
                    else:
                        similarity = 0.0
                    known[chunk.id] = DenseHit(chunk.id, chunk.text, chunk.metadata, similarity)
            for cid, score in window:
                hit = known.get(cid)
                if hit is None:
                    continue  # deleted by another replica since the lexical index was built
                similarity = clip_similarity(hit.similarity)
                if similarity < threshold:
                    continue
                results.append(RetrievedChunk(cid, hit.text, hit.metadata, similarity, score))
                if len(results) == k:
                    break
        return results
