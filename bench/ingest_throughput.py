"""End-to-end ingestion throughput against raw `model.encode` on the same chunks, same run.

    .venv/bin/python bench/ingest_throughput.py [--dataset DIR] [--limit N]

Raw: the chunk texts (title + chunk, exactly what ingestion embeds) through
`SentenceTransformer.encode` with its defaults. End to end: the BEIR corpus through
`RAGSystem.aingest` into a fresh embedded Chroma collection (loading, chunking, embedding,
Chroma upserts and the BM25 index). The corpus goes in slices of 250 documents and each slice
is measured both ways back to back (alternating which goes first), so drifting background
load hits both sides alike. Target: ratio >= 0.90.
"""

from __future__ import annotations

import argparse
import asyncio
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


async def measure(
    slices: list[DocumentInput], settings: RagSettings
) -> tuple[float, float, int, int]:
    """Seconds for raw encoding and for ingestion, slice by slice, and chunk counts."""
    system = RAGSystem(settings)
    await system.astart()
    raw = ours = 0.0
    raw_chunks = ingested = 0
    try:
        for index, part in enumerate(slices):
            texts = chunk_texts([part], settings)
            for path in ("raw", "ours") if index % 2 == 0 else ("ours", "raw"):
                if path == "raw":
                    raw += raw_encode_seconds(texts, settings)
                    raw_chunks += len(texts)
                else:
                    started = time.perf_counter()
                    ingested += sum(r.chunks for r in await system.aingest([part]))
                    ours += time.perf_counter() - started
    finally:
        await system.aclose()
    return raw, ours, raw_chunks, ingested


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, default=DEFAULT_DATASET)
    parser.add_argument("--limit", type=int, default=None, help="only the first N documents")
    args = parser.parse_args()
    slices = [
        DocumentInput("".join(lines), content_type="jsonl")
        for part in limited_inputs(args.dataset, args.limit)
        for lines in _batches(str(part.content).splitlines(keepends=True), 250)
    ]
    with tempfile.TemporaryDirectory(prefix="ragkube-bench-") as work:
        settings = RagSettings(data_dir=Path(work), max_document_bytes=1 << 31)
        shared_model(settings.embeddings_model).encode(["warm-up"] * 64)
        raw, ours, raw_chunks, chunks = asyncio.run(measure(slices, settings))
    assert chunks == raw_chunks, (chunks, raw_chunks)
    ratio = raw / ours
    print(f"{'path':<34} {'seconds':>9} {'chunks/s':>10}")
    print(f"{'raw model.encode':<34} {raw:>9.2f} {raw_chunks / raw:>10.1f}")
    print(f"{'RAGSystem.aingest end to end':<34} {ours:>9.2f} {chunks / ours:>10.1f}")
    print()
    print(
        f"{chunks} chunks in {len(slices)} slices; ingest throughput / raw encode throughput"
        f" = {ratio:.3f} (target >= 0.90) -> {'PASS' if ratio >= 0.90 else 'FAIL'}"
    )
    return 0 if ratio >= 0.90 else 1


def _batches(lines: list[str], size: int) -> list[list[str]]:
    return [lines[start : start + size] for start in range(0, len(lines), size)]


if __name__ == "__main__":
    sys.exit(main())
