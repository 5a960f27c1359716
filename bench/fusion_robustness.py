"""Fusion robustness: does hybrid stay near the better method when the other one is much weaker?

    .venv/bin/python bench/fusion_robustness.py [--dataset DIR] [--embedding-cache FILE]

The rule for the default fusion is "never more than 0.01 nDCG@10 below the better of dense and
lexical on the same corpus". Corpora where one method is far stronger are simulated on one
real corpus (SciFact by default) by weakening one side and keeping the other as it is:

- dense + noise s: each query vector gets a random vector of norm s added (a model that
  understands the queries less well);
- weak dense model: the mean of MiniLM's own token embeddings weighted by IDF, without the
  transformer (a genuinely worse model whose scores look just as confident);
- lexical, p of the words dropped: each query loses that share of its words at random (the
  vocabulary mismatch that makes BM25 weak on paraphrased questions). BM25 scores the shorter
  query, but what the query's shape tells the fusion (keyword query or sentence, and how many
  chunks hold all its terms) is read from the question as asked: the user asked that, and
  only the method is being weakened.

For each scenario it prints dense, lexical, plain RRF and the default fusion side by side, all
ranked by the production code (`Retriever.rank_documents`) over the same candidate lists.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import random
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from rag_core.embeddings import CachedEmbedder, LocalEmbedder
from rag_core.evaluation import eval_settings, ingest_corpus, load_queries, ndcg_at_k
from rag_core.lexical_index import LexicalResult
from rag_core.retrieval import Retriever
from rag_core.settings import RagSettings
from rag_core.system import RAGSystem, indexed_text, make_embedder
from rag_core.vector_store import DenseHit

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATASET = REPO.parent / "shared" / "data" / "scifact"
CANDIDATES = 200
NOISE_LEVELS = (2.0, 3.0)
DROP_SHARES = (0.3, 0.5, 0.7)


def drop_words(text: str, share: float, seed: int) -> str:
    """`text` with about `share` of its words removed at random (at least one kept)."""
    rnd = random.Random(seed)
    words = text.split()
    kept = [w for w in words if rnd.random() >= share]
    return " ".join(kept or [rnd.choice(words)])


def token_ids(embedder: LocalEmbedder, texts: Sequence[str]) -> list[list[int]]:
    """The model's word-piece ids of each text (no special tokens, the model's length cap)."""
    tokenizer = embedder.model.tokenizer
    return [
        tokenizer(text, add_special_tokens=False, truncation=True, max_length=256)["input_ids"]
        for text in texts
    ]


def static_embeddings(
    embedder: LocalEmbedder, ids: Sequence[list[int]], idf: npt.NDArray[np.float64]
) -> npt.NDArray[np.float32]:
    """IDF-weighted mean of the model's input token embeddings, L2-normalised."""
    transformer: Any = embedder.model[0].auto_model
    table = transformer.embeddings.word_embeddings.weight.detach().numpy()
    out = np.zeros((len(ids), table.shape[1]), dtype=np.float32)
    for row, tokens in enumerate(ids):
        if tokens:
            out[row] = (table[tokens] * idf[tokens][:, None]).sum(axis=0)
    out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)
    return out


def weak_model_hits(
    embedder: LocalEmbedder, system: RAGSystem, queries: Sequence[str]
) -> list[list[DenseHit]]:
    """Top candidates of every query under the static-embedding model (exact search)."""
    chunks = list(system.store.iter_chunks())
    chunk_ids = token_ids(embedder, [indexed_text(chunk) for chunk in chunks])
    document_frequency = np.zeros(embedder.model.tokenizer.vocab_size)
    for tokens in chunk_ids:
        document_frequency[list(set(tokens))] += 1
    idf = np.log((len(chunk_ids) + 1) / (document_frequency + 1))
    query_vectors = static_embeddings(embedder, token_ids(embedder, queries), idf)
    scores = query_vectors @ static_embeddings(embedder, chunk_ids, idf).T
    hits = []
    for row in scores:
        top = np.argpartition(-row, CANDIDATES)[:CANDIDATES]
        top = top[np.argsort(-row[top])]  # hits come best first, as Chroma returns them
        hits.append([DenseHit(chunks[j].id, "", {}, float(row[j])) for j in top])
    return hits


def score(
    retriever: Retriever,
    mode: str,
    dense: list[list[DenseHit]],
    lexical: list[LexicalResult],
    judged: list[dict[str, int]],
) -> float:
    """Mean nDCG@10 of one mode over the given candidate lists."""
    total = sum(
        ndcg_at_k(retriever.rank_documents(mode, d, lx), relevant)
        for d, lx, relevant in zip(dense, lexical, judged, strict=True)
    )
    return total / len(judged)


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, default=DEFAULT_DATASET)
    parser.add_argument("--embedding-cache", type=Path, default=None)
    args = parser.parse_args()
    started = time.perf_counter()
    queries, qrels = load_queries(args.dataset)
    ids = list(queries)
    texts = [queries[q] for q in ids]
    judged = [qrels[q] for q in ids]
    with tempfile.TemporaryDirectory(prefix="ragkube-fusion-") as work:
        config = eval_settings(RagSettings(), Path(work))
        embedder = make_embedder(config)
        assert isinstance(embedder, LocalEmbedder), "the weak-model scenario needs MiniLM"
        cached = CachedEmbedder(embedder, args.embedding_cache) if args.embedding_cache else None
        system = RAGSystem(config, embedder=cached or embedder)
        await system.astart()
        try:
            await ingest_corpus(system, args.dataset, lambda line: print(line, file=sys.stderr))
            if cached is not None:
                cached.save()
            retriever = system.retriever
            vectors = embedder.embed(texts)
            noise = np.random.default_rng(7).normal(size=vectors.shape).astype(np.float32)
            noise /= np.linalg.norm(noise, axis=1, keepdims=True)

            def dense_hits(matrix: npt.NDArray[np.float32]) -> list[list[DenseHit]]:
                unit = matrix / np.linalg.norm(matrix, axis=1, keepdims=True)
                return [retriever.dense(v, None, CANDIDATES, with_content=False) for v in unit]

            def lexical_hits(questions: Sequence[str]) -> list[LexicalResult]:
                return [retriever.lexical(q, None, CANDIDATES) for q in questions]

            dense = dense_hits(vectors)
            lexical = lexical_hits(texts)

            def weakened(questions: Sequence[str]) -> list[LexicalResult]:
                return [
                    dataclasses.replace(asked, hits=found.hits)
                    for asked, found in zip(lexical, lexical_hits(questions), strict=True)
                ]

            scenarios = [("as measured", dense, lexical)]
            scenarios += [
                (f"dense + noise s={s:g}", dense_hits(vectors + s * noise), lexical)
                for s in NOISE_LEVELS
            ]
            scenarios.append(
                ("weak dense model", weak_model_hits(embedder, system, texts), lexical)
            )
            scenarios += [
                (
                    f"lexical, {p:.0%} words dropped",
                    dense,
                    weakened([drop_words(t, p, i) for i, t in enumerate(texts)]),
                )
                for p in DROP_SHARES
            ]
            print(f"dataset {args.dataset.name}: {len(ids)} queries; nDCG@10\n")
            print(
                f"{'scenario':<28} {'dense':>6} {'lexical':>8} {'RRF':>6} {'hybrid':>7} "
                f"{'hybrid-best':>12} {'RRF-best':>9}"
            )
            worst = float("inf")
            for label, d, lx in scenarios:
                results = {m: score(retriever, m, d, lx, judged) for m in ("dense", "lexical")}
                results |= {m: score(retriever, m, d, lx, judged) for m in ("rrf", "hybrid")}
                best = max(results["dense"], results["lexical"])
                margin = results["hybrid"] - best
                worst = min(worst, margin)
                print(
                    f"{label:<28} {results['dense']:>6.3f} {results['lexical']:>8.3f} "
                    f"{results['rrf']:>6.3f} {results['hybrid']:>7.3f} {margin:>+12.3f} "
                    f"{results['rrf'] - best:>+9.3f}"
                )
        finally:
            await system.aclose()
    print(f"\nworst hybrid - best single method: {worst:+.3f} (rule: >= -0.010)")
    print(f"(run took {time.perf_counter() - started:.0f} s)")
    return 0 if worst >= -0.01 else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
