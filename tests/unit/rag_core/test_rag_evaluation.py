"""The BEIR evaluation scores modes on a tiny BEIR-format folder and prints a table."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag_core.evaluation import ndcg_at_k, recall_at_k, run_beir_eval

CORPUS = [
    ("d1", "Vitamin D", "Vitamin D deficiency is linked to bone fractures in the elderly."),
    ("d2", "Statins", "Statins lower LDL cholesterol and reduce heart attacks."),
    ("d3", "Malaria", "Artemisinin combination therapy treats malaria infections."),
    ("d4", "Sleep", "Short sleep duration raises the risk of obesity in children."),
    ("d5", "Exercise", "Aerobic exercise improves memory in older adults."),
    ("d6", "Smoking", "Smoking cessation lowers lung cancer risk over ten years."),
]
QUERIES = [
    ("q1", "Does vitamin D deficiency cause fractures?", "d1"),
    ("q2", "Cholesterol lowering drugs prevent heart attacks", "d2"),
    ("q3", "treatment for malaria", "d3"),
]


def beir_folder(root: Path) -> Path:
    (root / "qrels").mkdir(parents=True)
    with (root / "corpus.jsonl").open("w") as corpus:
        for doc_id, title, text in CORPUS:
            corpus.write(json.dumps({"_id": doc_id, "title": title, "text": text}) + "\n")
    with (root / "queries.jsonl").open("w") as queries:
        for query_id, text, _ in [*QUERIES, ("q9", "an unjudged query", "")]:
            queries.write(json.dumps({"_id": query_id, "text": text}) + "\n")
    lines = ["query-id\tcorpus-id\tscore"] + [f"{q}\t{d}\t1" for q, _, d in QUERIES]
    (root / "qrels" / "test.tsv").write_text("\n".join(lines) + "\n")
    return root


def test_ndcg_and_recall_follow_their_definitions() -> None:
    assert ndcg_at_k(["a", "b"], {"a": 1}) == 1.0
    assert ndcg_at_k(["b", "a"], {"a": 1}) == pytest.approx(1 / 1.5849625)
    assert ndcg_at_k(["x"], {"a": 1}) == 0.0
    assert recall_at_k(["a", "x"], {"a": 1, "b": 1}) == 0.5


def test_every_mode_is_scored_on_the_judged_queries(tmp_path: Path) -> None:
    cache = tmp_path / "vectors.npz"
    report = run_beir_eval(
        beir_folder(tmp_path / "tiny"),
        modes=("dense", "lexical", "hybrid", "rrf"),
        embedding_cache=cache,
    )
    assert (report.documents, report.chunks, report.queries) == (6, 6, 3)
    for mode in ("dense", "lexical", "hybrid", "rrf"):
        scores = report.mode(mode)
        assert scores.ndcg_at_10 == pytest.approx(1.0), mode
        assert scores.recall_at_100 == 1.0
    assert "embed" not in report.mode("lexical").latency_ms
    assert {"embed", "dense", "lexical", "fuse", "total"} <= set(report.mode("hybrid").latency_ms)
    table = report.format_report()
    assert "nDCG@10" in table
    assert "hybrid" in table
    assert cache.exists()


def test_unknown_modes_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="fuzzy"):
        run_beir_eval(beir_folder(tmp_path / "tiny"), modes=("fuzzy",))
