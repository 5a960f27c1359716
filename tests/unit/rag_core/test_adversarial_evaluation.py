"""`run_beir_eval` on BEIR folders as they come in the wild: odd records, marks and gaps."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from rag_core.evaluation import load_queries, run_beir_eval


def beir_folder(
    root: Path, corpus: list[dict[str, Any]], queries: list[dict[str, Any]], qrels: str
) -> Path:
    (root / "qrels").mkdir(parents=True)
    (root / "corpus.jsonl").write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in corpus), encoding="utf-8"
    )
    (root / "queries.jsonl").write_text(
        "".join(json.dumps(r) + "\n" for r in queries), encoding="utf-8"
    )
    (root / "qrels" / "test.tsv").write_text(qrels, encoding="utf-8")
    return root


def test_no_corpus_record_is_lost_to_empty_texts_line_separators_or_numeric_ids(
    tmp_path: Path,
) -> None:
    corpus = [
        # TREC-COVID holds papers with a title and no abstract.
        {"_id": "c1", "title": "Masks reduce respiratory virus spread", "text": ""},
        # json.dumps(ensure_ascii=False) writes U+2028 raw; it is not a line break in JSONL.
        {"_id": "c2", "title": "Statins", "text": "Statins lower\u2028LDL cholesterol."},
        {"_id": 0, "title": "Malaria", "text": "Artemisinin therapy treats malaria."},
    ]
    queries = [
        {"_id": "q1", "text": "do masks reduce virus spread"},
        {"_id": "q2", "text": "statins LDL cholesterol"},
        {"_id": "q3", "text": "malaria artemisinin"},
    ]
    qrels = "query-id\tcorpus-id\tscore\nq1\tc1\t1\nq2\tc2\t1\nq3\t0\t1\n"
    report = run_beir_eval(beir_folder(tmp_path / "wild", corpus, queries, qrels), ["lexical"])
    assert (report.documents, report.queries) == (3, 3)
    assert report.mode("lexical").ndcg_at_10 == pytest.approx(1.0)


def test_byte_order_marks_in_queries_and_qrels_are_ignored(tmp_path: Path) -> None:
    root = beir_folder(tmp_path / "bom", [], [], "")
    (root / "queries.jsonl").write_text('\ufeff{"_id": "q1", "text": "vitamin d"}\n')
    (root / "qrels" / "test.tsv").write_text("\ufeffq1\td1\t1\n")
    queries, qrels = load_queries(root)
    assert queries == {"q1": "vitamin d"}
    assert qrels == {"q1": {"d1": 1}}


def test_a_split_without_judged_queries_is_refused_before_ingesting(tmp_path: Path) -> None:
    root = beir_folder(
        tmp_path / "unjudged",
        [{"_id": "d1", "text": "Some text."}],
        [{"_id": "q1", "text": "a query nobody judged"}],
        "query-id\tcorpus-id\tscore\n",
    )
    with pytest.raises(ValueError, match="no judged queries"):
        run_beir_eval(root, ["lexical"])


def test_a_query_record_without_text_is_named_by_file_and_line(tmp_path: Path) -> None:
    root = beir_folder(
        tmp_path / "textless",
        [],
        [{"_id": "q1", "text": "fine"}, {"_id": "q2"}],
        "q1\td1\t1\nq2\td1\t1\n",
    )
    with pytest.raises(ValueError, match=r"queries\.jsonl line 2"):
        load_queries(root)


def test_a_query_that_is_itself_a_corpus_document_is_not_its_own_answer(tmp_path: Path) -> None:
    # ArguAna-style: the query's text is also in the corpus, under the query's id.
    argument = "school uniforms limit the self expression of pupils"
    corpus = [
        {"_id": "arg-1", "title": "", "text": argument},
        {"_id": "arg-2", "title": "", "text": "uniforms hardly limit pupils' self expression"},
        {"_id": "arg-3", "title": "", "text": "Tax policy and public spending on roads."},
    ]
    queries = [{"_id": "arg-1", "text": argument}]
    qrels = "query-id\tcorpus-id\tscore\narg-1\targ-2\t1\n"
    report = run_beir_eval(beir_folder(tmp_path / "arguana", corpus, queries, qrels), ["lexical"])
    assert report.mode("lexical").ndcg_at_10 == pytest.approx(1.0)


def test_corpus_records_the_loader_rejects_are_reported_not_silently_dropped(
    tmp_path: Path,
) -> None:
    corpus = [
        {"_id": "ok", "title": "Vitamin D", "text": "Vitamin D deficiency and bone health."},
        {"_id": "bad", "title": 7, "text": ""},
    ]
    queries = [{"_id": "q1", "text": "vitamin d bones"}]
    qrels = "query-id\tcorpus-id\tscore\nq1\tok\t1\n"
    lines: list[str] = []
    report = run_beir_eval(
        beir_folder(tmp_path / "part", corpus, queries, qrels), ["lexical"], progress=lines.append
    )
    assert report.documents == 1
    assert any("rejected" in line and "'bad'" in line for line in lines), lines
    assert any("1 records rejected" in line for line in lines), lines
