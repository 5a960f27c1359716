"""Retrieval quality on a BEIR folder (SciFact by default): nDCG@10 and Recall@100 per mode.

    .venv/bin/python bench/retrieval_quality.py [--dataset DIR] [--embedding-cache FILE]

Prints dense, lexical, hybrid (the default fusion) and plain reciprocal-rank fusion side by
side, then the margins the default must keep: hybrid >= 0.72 on SciFact and never more than
0.01 below the better single method.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from rag_core.evaluation import run_beir_eval

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATASET = REPO.parent / "shared" / "data" / "scifact"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, default=DEFAULT_DATASET)
    parser.add_argument("--embedding-cache", type=Path, default=None)
    parser.add_argument("--max-queries", type=int, default=None)
    parser.add_argument("--target", type=float, default=0.72)
    args = parser.parse_args()
    started = time.perf_counter()
    report = run_beir_eval(
        args.dataset,
        modes=("dense", "lexical", "hybrid", "rrf"),
        max_queries=args.max_queries,
        embedding_cache=args.embedding_cache,
        progress=lambda line: print(line, file=sys.stderr, flush=True),
    )
    print(report.format_report())
    hybrid = report.mode("hybrid").ndcg_at_10
    best_single = max(report.mode("dense").ndcg_at_10, report.mode("lexical").ndcg_at_10)
    rrf = report.mode("rrf").ndcg_at_10
    print()
    print(f"hybrid - best single method : {hybrid - best_single:+.4f}  (must be >= -0.01)")
    print(f"hybrid - plain RRF          : {hybrid - rrf:+.4f}")
    print(
        f"hybrid nDCG@10 vs target    : {hybrid:.4f} vs {args.target:.2f} "
        f"-> {'PASS' if hybrid >= args.target else 'FAIL'}"
    )
    print(f"(run took {time.perf_counter() - started:.0f} s)")
    return 0 if hybrid >= args.target and hybrid >= best_single - 0.01 else 1


if __name__ == "__main__":
    sys.exit(main())
