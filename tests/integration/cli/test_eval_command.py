"""`ragkube eval` on a tiny BEIR-format dataset made here."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from ragkube_cli.main import app

DOCUMENTS = {
    "d1": "Raft elects a leader that replicates a log to its followers.",
    "d2": "Photosynthesis turns light into chemical energy in plants.",
    "d3": "BM25 ranks documents by term frequency and inverse document frequency.",
    "d4": "A Kubernetes Deployment replaces pods that fail.",
}
QUERIES = {"q1": "Which algorithm elects a leader?", "q2": "How do plants use light?"}
QRELS = {"q1": "d1", "q2": "d2"}


def beir_dataset(root: Path) -> Path:
    (root / "qrels").mkdir(parents=True)
    (root / "corpus.jsonl").write_text(
        "".join(json.dumps({"_id": k, "title": "", "text": v}) + "\n" for k, v in DOCUMENTS.items())
    )
    (root / "queries.jsonl").write_text(
        "".join(json.dumps({"_id": k, "text": v}) + "\n" for k, v in QUERIES.items())
    )
    (root / "qrels" / "test.tsv").write_text(
        "query-id\tcorpus-id\tscore\n" + "".join(f"{q}\t{d}\t1\n" for q, d in QRELS.items())
    )
    return root


def test_eval_scores_each_mode_on_a_beir_dataset(tmp_path: Path) -> None:
    dataset = beir_dataset(tmp_path / "tiny")
    result = CliRunner().invoke(
        app, ["eval", "--dataset", str(dataset), "--mode", "dense", "--mode", "lexical", "--json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["documents"], report["queries"]) == (4, 2)
    scores = {m["mode"]: m["ndcg_at_10"] for m in report["modes"]}
    assert set(scores) == {"dense", "lexical"}
    assert scores["dense"] > 0.9
    assert report["index"]["embedding_model"] == "all-MiniLM-L6-v2"
    assert report["index"]["dimension"] == 384


def test_eval_prints_a_table_for_people(tmp_path: Path) -> None:
    dataset = beir_dataset(tmp_path / "tiny")
    result = CliRunner().invoke(app, ["eval", "--dataset", str(dataset), "--mode", "hybrid"])
    assert result.exit_code == 0, result.output
    assert "nDCG@10" in result.stdout
    assert "hybrid" in result.stdout
    assert "index: all-MiniLM-L6-v2 (local, 384 dimensions, normalised)" in result.stdout


def test_eval_of_a_folder_without_qrels_exits_1(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    result = CliRunner().invoke(app, ["eval", "--dataset", str(tmp_path / "empty")])
    assert result.exit_code == 1
    assert "cannot evaluate" in result.stderr
