"""End-to-end ingestion throughput against raw `model.encode` on the same chunks, same run.

    .venv/bin/python bench/ingest_throughput.py [--dataset DIR] [--limit N]

Raw: the chunk texts (title + chunk, exactly what ingestion embeds) through
`SentenceTransformer.encode` with its defaults. End to end: the BEIR corpus through
`RAGSystem.aingest` into a fresh embedded Chroma collection (loading, chunking, embedding,
Chroma upserts and the BM25 index). Raw encode runs before and after ingestion and the ratio
uses their mean, so drifting background load hits both sides. Target: ratio >= 0.90.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

from rag_core import RagSettings, RAGSystem
from rag_core.chunking import ChunkingOptions, chunk_documents
from rag_core.documents import DocumentInput, LoadedDocument
from rag_core.embeddings import shared_model
from rag_core.evaluation import corpus_inputs
from rag_core.loading import load_document

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATASET = REPO.parent / "shared" / "data" / "scifact"


def limited_inputs(dataset: Path, limit: int | None) -> list[DocumentInput]:
    inputs = corpus_inputs(dataset, batch=1000)
    if limit is None:
        return inputs
    kept, total = [], 0
    for part in inputs:
        assert isinstance(part.content, str)
        lines = part.content.splitlines(keepends=True)[: limit - total]
        kept.append(DocumentInput("".join(lines), content_type="jsonl"))
        total += len(lines)
        if total >= limit:
            break
    return kept


def chunk_texts(inputs: list[DocumentInput], settings: RagSettings) -> list[str]:
    model = shared_model(settings.embeddings_model)
    loaded = [
        outcome
        for index, part in enumerate(inputs)
        for outcome in load_document(part, index, 1 << 31)
        if isinstance(outcome, LoadedDocument)
    ]
    options = ChunkingOptions(settings.chunk_size, settings.chunk_overlap)
    return [c.embed_text for cs in chunk_documents(loaded, model.tokenizer, options) for c in cs]


def raw_encode_seconds(texts: list[str], settings: RagSettings) -> float:
    model = shared_model(settings.embeddings_model)
    started = time.perf_counter()
    model.encode(texts)
    return time.perf_counter() - started


async def ingest_seconds(inputs: list[DocumentInput], settings: RagSettings) -> tuple[float, int]:
    system = RAGSystem(settings)
    await system.astart()
    try:
        started = time.perf_counter()
        chunks = 0
        for part in inputs:
            chunks += sum(r.chunks for r in await system.aingest([part]))
        return time.perf_counter() - started, chunks
    finally:
        await system.aclose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, default=DEFAULT_DATASET)
    parser.add_argument("--limit", type=int, default=None, help="only the first N documents")
    args = parser.parse_args()
    inputs = limited_inputs(args.dataset, args.limit)
    with tempfile.TemporaryDirectory(prefix="ragkube-bench-") as work:
        settings = RagSettings(data_dir=Path(work), max_document_bytes=1 << 31)
        texts = chunk_texts(inputs, settings)
        shared_model(settings.embeddings_model).encode(texts[:64])  # warm-up
        raw_before = raw_encode_seconds(texts, settings)
        ours, chunks = asyncio.run(ingest_seconds(inputs, settings))
        raw_after = raw_encode_seconds(texts, settings)
    assert chunks == len(texts), (chunks, len(texts))
    raw = statistics.fmean([raw_before, raw_after])
    ratio = raw / ours
    print(f"{'path':<34} {'seconds':>9} {'chunks/s':>10}")
    print(f"{'raw model.encode (before)':<34} {raw_before:>9.2f} {len(texts) / raw_before:>10.1f}")
    print(f"{'raw model.encode (after)':<34} {raw_after:>9.2f} {len(texts) / raw_after:>10.1f}")
    print(f"{'RAGSystem.aingest end to end':<34} {ours:>9.2f} {chunks / ours:>10.1f}")
    print()
    print(
        f"{len(texts)} chunks; ingest throughput / raw encode throughput = {ratio:.3f} "
        f"(target >= 0.90) -> {'PASS' if ratio >= 0.90 else 'FAIL'}"
    )
    return 0 if ratio >= 0.90 else 1


if __name__ == "__main__":
    sys.exit(main())
