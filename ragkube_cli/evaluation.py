"""`ragkube eval`: rag_core's BEIR evaluation, printed as a table or JSON."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.table import Table

from ragkube_cli.output import err, fail, out


def run(
    dataset: Path, modes: Sequence[str], split: str, max_queries: int | None, quiet: bool
) -> Any:
    """Score each retrieval mode on the BEIR folder `dataset` (rag_core.evaluation)."""
    from rag_core.evaluation import run_beir_eval

    console = err()

    def progress(message: str) -> None:
        if not quiet:
            console.print(f"[dim]{message}[/]")

    try:
        return run_beir_eval(
            dataset, modes, split=split, max_queries=max_queries, progress=progress
        )
    except (FileNotFoundError, ValueError, KeyError) as exc:
        fail(f"cannot evaluate {dataset}: {exc}")


def as_json(report: Any) -> dict[str, Any]:
    """The report as `--json` prints it."""
    data: dict[str, Any] = dataclasses.asdict(report)
    return data


def show(report: Any) -> None:
    """Scores and median latencies per mode, as a table."""
    table = Table(
        title=f"{report.dataset}: {report.documents} documents, {report.chunks} chunks, "
        f"{report.queries} queries (ingest {report.ingest_seconds:.1f} s)"
    )
    for column in ("mode", "nDCG@10", "Recall@100", "total p50 ms", "total p95 ms"):
        table.add_column(column, justify="left" if column == "mode" else "right")
    for mode in report.modes:
        total = mode.latency_ms.get("total", {})
        table.add_row(
            mode.mode,
            f"{mode.ndcg_at_10:.4f}",
            f"{mode.recall_at_100:.4f}",
            f"{total.get('p50', float('nan')):.2f}",
            f"{total.get('p95', float('nan')):.2f}",
        )
    out().print(table)
    if report.index is not None:
        index = report.index
        out().print(
            f"index: {index['embedding_model']} ({index['embedding_provider']}, "
            f"{index['dimension']} dimensions, "
            f"{'normalised' if index['normalized'] else 'not normalised'}), "
            f"chunks of {index['chunk_size']} tokens with {index['chunk_overlap']} overlap, "
            f"analyzer {index['analyzer']}, built {index['built_at']}"
        )
