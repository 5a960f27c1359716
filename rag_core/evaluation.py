"""Retrieval quality on any BEIR-format folder: nDCG@10, Recall@100 and per-stage latency.

A BEIR folder holds `corpus.jsonl` ({"_id", "title", "text"}), `queries.jsonl` ({"_id",
"text"}) and `qrels/<split>.tsv` (query-id, corpus-id, score, with a header line). The corpus
is ingested through the same pipeline the API uses (loading, chunking, embedding, Chroma,
BM25) into a throw-away embedded collection; chunk rankings become document rankings by
keeping each document's best chunk.
"""

from __future__ import annotations

import asyncio
import json
import math
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from rag_core.documents import DocumentInput
from rag_core.embeddings import CachedEmbedder, Embedder
from rag_core.lexical_index import LexicalResult
from rag_core.settings import RETRIEVAL_MODES, RagSettings
from rag_core.system import RAGSystem, make_embedder

Qrels = dict[str, dict[str, int]]
STAGES = ("embed", "dense", "lexical", "fuse", "total")
#: Rejected corpus records whose reason `ingest_corpus` reports one by one.
REJECTIONS_SHOWN = 5


@dataclass(frozen=True)
class ModeReport:
    """Quality and latency of one retrieval mode; latencies are per query, in milliseconds."""

    mode: str
    ndcg_at_10: float
    recall_at_100: float
    latency_ms: dict[str, dict[str, float]]


@dataclass(frozen=True)
class EvalReport:
    dataset: str
    documents: int
    chunks: int
    queries: int
    ingest_seconds: float
    modes: list[ModeReport] = field(default_factory=list)
    #: What built the evaluated index, as the index records it (`IndexIdentity.record()`).
    index: dict[str, Any] | None = None

    def mode(self, name: str) -> ModeReport:
        return next(m for m in self.modes if m.mode == name)

    def format_report(self) -> str:
        """A plain-text table of every mode's scores and stage latencies."""
        lines = [
            f"dataset {self.dataset}: {self.documents} documents, {self.chunks} chunks, "
            f"{self.queries} queries; ingest {self.ingest_seconds:.1f} s "
            f"({self.chunks / max(self.ingest_seconds, 1e-9):.1f} chunks/s)",
            "",
            f"{'mode':<8} {'nDCG@10':>8} {'R@100':>7} "
            + " ".join(f"{stage + ' p50/p95 ms':>22}" for stage in STAGES),
        ]
        for report in self.modes:
            cells = []
            for stage in STAGES:
                latency = report.latency_ms.get(stage)
                cells.append(
                    f"{latency['p50']:>10.2f} / {latency['p95']:>8.2f}" if latency else f"{'-':>21}"
                )
            lines.append(
                f"{report.mode:<8} {report.ndcg_at_10:>8.4f} {report.recall_at_100:>7.4f} "
                + " ".join(f"{cell:>22}" for cell in cells)
            )
        return "\n".join(lines)


def load_queries(dataset_dir: Path, split: str = "test") -> tuple[dict[str, str], Qrels]:
    """The judged queries of a split and their relevance judgements.

    Raises ValueError naming the file and line of a query record that cannot be read.
    """
    qrels: Qrels = {}
    qrels_path = dataset_dir / "qrels" / f"{split}.tsv"
    for line in qrels_path.read_text(encoding="utf-8-sig").splitlines():
        parts = line.split("\t")
        if len(parts) < 3 or not parts[2].strip().lstrip("-").isdigit():
            continue  # the header, or a blank line
        qrels.setdefault(parts[0], {})[parts[1]] = int(parts[2])
    queries: dict[str, str] = {}
    with (dataset_dir / "queries.jsonl").open(encoding="utf-8-sig") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                query_id, text = str(record["_id"]), record["text"]
                if not isinstance(text, str):
                    raise TypeError("its 'text' is not a string")
            except (ValueError, KeyError, TypeError) as error:
                raise ValueError(
                    f"queries.jsonl line {number} is not a query record with '_id' and 'text' "
                    f"({error!r})"
                ) from error
            if query_id in qrels:
                queries[query_id] = text
    return queries, qrels


def ndcg_at_k(ranking: Sequence[str], relevant: dict[str, int], k: int = 10) -> float:
    """Normalised discounted cumulative gain of a ranking at depth k (graded, log2 discount)."""
    dcg = sum(relevant.get(doc, 0) / math.log2(i + 2) for i, doc in enumerate(ranking[:k]))
    ideal = sorted((g for g in relevant.values() if g > 0), reverse=True)[:k]
    best = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / best if best > 0 else 0.0


def recall_at_k(ranking: Sequence[str], relevant: dict[str, int], k: int = 100) -> float:
    """Share of the relevant documents found in the first k."""
    wanted = {doc for doc, grade in relevant.items() if grade > 0}
    return len(wanted & set(ranking[:k])) / len(wanted) if wanted else 0.0


def _summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "mean": statistics.fmean(ordered) * 1000,
        "p50": ordered[len(ordered) // 2] * 1000,
        "p95": ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))] * 1000,
    }


def corpus_inputs(dataset_dir: Path, batch: int = 2000) -> list[DocumentInput]:
    """The corpus as JSONL inputs of `batch` records each (one result per record)."""
    inputs = []
    lines: list[str] = []
    with (dataset_dir / "corpus.jsonl").open(encoding="utf-8-sig") as handle:
        for line in handle:
            if line.strip():
                lines.append(line)
            if len(lines) == batch:
                inputs.append(DocumentInput("".join(lines), content_type="jsonl"))
                lines = []
    if lines:
        inputs.append(DocumentInput("".join(lines), content_type="jsonl"))
    return inputs


def eval_settings(base: RagSettings, work_dir: Path) -> RagSettings:
    """`base` turned into the settings of a throw-away embedded evaluation collection.

    Each retriever contributes at least 200 candidate chunks, so that Recall@100 is measured
    over at least 100 documents.
    """
    return replace(
        base,
        data_dir=work_dir,
        chroma_host=None,
        collection_name="beir-eval",
        max_document_bytes=1 << 31,
        candidates=max(base.candidates, 200),
    )


async def ingest_corpus(
    system: RAGSystem, dataset_dir: Path, say: Callable[[str], None]
) -> tuple[int, int, float]:
    """Ingest a BEIR corpus through the facade: (documents, chunks, seconds).

    Records the loader rejects are reported through `say` (the first few with their reason,
    then the count), so that a score is never silently computed over part of a corpus.
    """
    say(f"ingesting {dataset_dir / 'corpus.jsonl'}")
    started = time.perf_counter()
    documents = chunks = rejected = 0
    for part in corpus_inputs(dataset_dir):
        results = await system.aingest([part])
        documents += sum(r.ok for r in results)
        chunks += sum(r.chunks for r in results)
        for result in results:
            if not result.ok:
                rejected += 1
                if rejected <= REJECTIONS_SHOWN:
                    say(f"  rejected: {result.error}")
        say(f"  {documents} documents, {chunks} chunks, {rejected} records rejected")
    return documents, chunks, time.perf_counter() - started


def run_beir_eval(
    dataset_dir: Path,
    modes: Sequence[str] = ("dense", "lexical", "hybrid"),
    *,
    split: str = "test",
    settings: RagSettings | None = None,
    max_queries: int | None = None,
    progress: Callable[[str], None] | None = None,
    embedding_cache: Path | None = None,
) -> EvalReport:
    """Ingest a BEIR corpus into a temporary collection and score each retrieval mode.

    Modes are "dense", "lexical", "hybrid" (the default fusion) and "rrf" (plain reciprocal-rank
    fusion of the same two rankings, a baseline); see `eval_settings` for the collection.

    `embedding_cache` names an `.npz` file that keeps the vectors between runs (the model is
    the slow part on a CPU); `settings` supplies chunking, fusion candidates and the model.
    A document whose id is the query's own id is left out of that query's ranking, as BEIR
    does.
    """
    for mode in modes:
        if mode not in (*RETRIEVAL_MODES, "rrf"):
            raise ValueError(f"Unknown retrieval mode {mode!r}; use one of {RETRIEVAL_MODES}.")
    queries, qrels = load_queries(dataset_dir, split)
    if not queries:
        # Scoring nothing would report zeros after a possibly long ingestion.
        raise ValueError(
            f"no judged queries: no query in queries.jsonl has judgements in qrels/{split}.tsv"
        )
    query_ids = list(queries)[: max_queries or None]
    say = progress or (lambda _: None)
    with tempfile.TemporaryDirectory(prefix="ragkube-eval-") as work:
        config = eval_settings(settings or RagSettings(), Path(work))
        embedder: Embedder = make_embedder(config)
        cached = CachedEmbedder(embedder, embedding_cache) if embedding_cache else None
        try:
            return asyncio.run(
                _evaluate(
                    RAGSystem(config, embedder=cached or embedder),
                    embedder,
                    dataset_dir,
                    modes,
                    queries,
                    qrels,
                    query_ids,
                    say,
                )
            )
        finally:
            if cached is not None:
                cached.save()


async def _evaluate(
    system: RAGSystem,
    query_embedder: Embedder,
    dataset_dir: Path,
    modes: Sequence[str],
    queries: dict[str, str],
    qrels: Qrels,
    query_ids: list[str],
    say: Callable[[str], None],
) -> EvalReport:
    await system.astart()
    try:
        documents, chunks, ingest_seconds = await ingest_corpus(system, dataset_dir, say)
        index = (await system.astats())["index"]
        reports = [
            await asyncio.to_thread(
                _score_mode, system, query_embedder, mode, queries, qrels, query_ids
            )
            for mode in modes
        ]
        for report in reports:
            say(f"{report.mode}: nDCG@10 {report.ndcg_at_10:.4f}")
    finally:
        await system.aclose()
    return EvalReport(
        dataset=dataset_dir.name,
        documents=documents,
        chunks=chunks,
        queries=len(query_ids),
        ingest_seconds=ingest_seconds,
        modes=reports,
        index=index,
    )


def _score_mode(
    system: RAGSystem,
    embedder: Embedder,
    mode: str,
    queries: dict[str, str],
    qrels: Qrels,
    query_ids: list[str],
) -> ModeReport:
    """Score one mode; queries are always embedded by the model itself, never from a cache."""
    retriever = system.retriever
    stages: dict[str, list[float]] = {stage: [] for stage in STAGES}
    ndcgs, recalls = [], []
    for query_id in query_ids:
        text = queries[query_id]
        t0 = time.perf_counter()
        vector = embedder.embed([text])[0] if mode != "lexical" else None
        t1 = time.perf_counter()
        dense = (
            retriever.dense(vector, None, retriever.candidates, with_content=False)
            if vector is not None
            else []
        )
        t2 = time.perf_counter()
        lexical = (
            retriever.lexical(text, None, retriever.candidates)
            if mode != "dense"
            else LexicalResult([])
        )
        t3 = time.perf_counter()
        ranking = retriever.rank_documents(mode, dense, lexical)
        t4 = time.perf_counter()
        # As BEIR scores (ignore_identical_ids): in ArguAna and Quora a query is also a corpus
        # document under the same id, and finding the query itself is not an answer to it.
        ranking = [doc for doc in ranking if doc != query_id]
        if mode != "lexical":
            stages["embed"].append(t1 - t0)
        if mode != "lexical":
            stages["dense"].append(t2 - t1)
        if mode != "dense":
            stages["lexical"].append(t3 - t2)
        if mode in ("hybrid", "rrf"):
            stages["fuse"].append(t4 - t3)
        stages["total"].append(t4 - t0)
        ndcgs.append(ndcg_at_k(ranking, qrels[query_id], 10))
        recalls.append(recall_at_k(ranking, qrels[query_id], 100))
    count = max(1, len(query_ids))
    return ModeReport(
        mode=mode,
        ndcg_at_10=sum(ndcgs) / count,
        recall_at_100=sum(recalls) / count,
        latency_ms={stage: _summary(values) for stage, values in stages.items() if values},
    )
