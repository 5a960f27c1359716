"""One query's retrieval (embed + hybrid search) against raw "encode + one Chroma query".

    .venv/bin/python bench/query_latency.py [--dataset DIR] [--limit N] [--queries N]

Both paths run on the same collection in the same process, interleaved query by query (the
order alternates), with queries that were never embedded before. Raw: `model.encode([q])`
then `collection.query(n_results=10)`. Ours: `RAGSystem.asearch(q, mode="hybrid")` — the
batched query encoder, BM25 and the Chroma query, fusion and the sources with similarities.
Target: median ratio <= 1.3.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from ingest_throughput import DEFAULT_DATASET, limited_inputs

from rag_core import RagSettings, RAGSystem
from rag_core.embeddings import CachedEmbedder, make_local_embedder


def train_queries(dataset: Path, count: int) -> list[str]:
    """Queries outside the test split, so nothing has embedded them before."""
    judged = set()
    qrels = dataset / "qrels" / "test.tsv"
    if qrels.exists():
        judged = {line.split("\t")[0] for line in qrels.read_text().splitlines()[1:]}
    texts = []
    for line in (dataset / "queries.jsonl").read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        if str(record["_id"]) not in judged:
            texts.append(record["text"])
    return list(dict.fromkeys(texts))[:count]


def summary(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return (
        f"{statistics.median(ordered) * 1000:>9.2f} {statistics.fmean(ordered) * 1000:>9.2f}"
        f" {p95 * 1000:>9.2f}"
    )


async def measure(args: argparse.Namespace, work: Path) -> tuple[list[float], list[float], int]:
    settings = RagSettings(data_dir=work, max_document_bytes=1 << 31)
    inner = make_local_embedder(settings)
    # The corpus may come from an embedding cache; queries never do (they are not in it).
    embedder = CachedEmbedder(inner, args.embedding_cache) if args.embedding_cache else inner
    system = RAGSystem(settings, embedder=embedder)
    await system.astart()
    try:
        chunks = 0
        for part in limited_inputs(args.dataset, args.limit):
            chunks += sum(r.chunks for r in await system.aingest([part]))
        model = inner.model
        collection = system.store.collection
        queries = train_queries(args.dataset, args.queries + 5)
        for warm in queries[:5]:  # first calls pay for lazy initialisation on both paths
            await system.asearch(warm, max_results=10, mode="hybrid", threshold=0.0)
            collection.query(query_embeddings=model.encode([warm]), n_results=10)
        raw, ours = [], []
        for index, query in enumerate(queries[5:]):
            for path in ("raw", "ours") if index % 2 == 0 else ("ours", "raw"):
                started = time.perf_counter()
                if path == "raw":
                    vector = model.encode([query], normalize_embeddings=True)
                    collection.query(query_embeddings=vector, n_results=10)
                    raw.append(time.perf_counter() - started)
                else:
                    await system.asearch(query, max_results=10, mode="hybrid", threshold=0.0)
                    ours.append(time.perf_counter() - started)
        return raw, ours, chunks
    finally:
        await system.aclose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, default=DEFAULT_DATASET)
    parser.add_argument("--limit", type=int, default=None, help="only the first N documents")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--embedding-cache", type=Path, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ragkube-bench-") as work:
        raw, ours, chunks = asyncio.run(measure(args, Path(work)))
    ratio = statistics.median(ours) / statistics.median(raw)
    print(f"{chunks} chunks, {len(raw)} queries (ms)")
    print(f"{'path':<44} {'median':>9} {'mean':>9} {'p95':>9}")
    print(f"{'raw: model.encode + collection.query':<44} {summary(raw)}")
    print(f"{'ours: RAGSystem.asearch (hybrid)':<44} {summary(ours)}")
    print()
    print(
        f"median ratio ours / raw = {ratio:.3f} (target <= 1.30) -> "
        f"{'PASS' if ratio <= 1.3 else 'FAIL'}"
    )
    return 0 if ratio <= 1.3 else 1


if __name__ == "__main__":
    sys.exit(main())
