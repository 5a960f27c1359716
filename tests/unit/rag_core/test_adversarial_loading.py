"""Unusual and hostile input documents: each one loads, or comes back as a rejection naming it.

`load_document` promises never to raise for bad input, so a caller's other documents survive.
"""

from __future__ import annotations

import codecs
import json

import pytest

from rag_core.documents import DocumentInput, LoadedDocument
from rag_core.errors import DocumentRejected
from rag_core.loading import load_document

LIMIT = 1_000_000


def outcomes(document: DocumentInput) -> list[LoadedDocument | DocumentRejected]:
    return load_document(document, 0, LIMIT)


def loaded(document: DocumentInput) -> list[LoadedDocument]:
    results = outcomes(document)
    assert all(isinstance(o, LoadedDocument) for o in results), results
    return [o for o in results if isinstance(o, LoadedDocument)]


@pytest.mark.parametrize(
    "document",
    [
        DocumentInput("text with a lone \ud800 surrogate", id="lone"),
        DocumentInput("fine text", id="meta", metadata={"note": "bad \udfff value"}),
        DocumentInput(r'{"id": "lone", "text": "escaped \ud800 in JSON"}', content_type="json"),
    ],
)
def test_lone_surrogates_are_a_rejection_not_a_crash(document: DocumentInput) -> None:
    (outcome,) = outcomes(document)
    assert isinstance(outcome, DocumentRejected)
    assert "lone" in str(outcome) or "meta" in str(outcome)
    assert "Unicode" in outcome.reason


def test_a_jsonl_record_with_an_escaped_surrogate_does_not_lose_its_neighbours() -> None:
    lines = (
        '{"id": "a", "text": "First."}\n'
        '{"id": "b", "text": "bad \\udc00"}\n'
        '{"id": "c", "text": "Third."}\n'
    )
    results = outcomes(DocumentInput(lines, source="batch.jsonl"))
    assert [type(o).__name__ for o in results] == [
        "LoadedDocument",
        "DocumentRejected",
        "LoadedDocument",
    ]
    assert "batch.jsonl line 2" in str(results[1])


@pytest.mark.parametrize("kind", ["json", "jsonl"])
def test_deeply_nested_json_is_rejected_not_a_recursion_error(kind: str) -> None:
    (outcome,) = outcomes(DocumentInput("[" * 100_000, source=f"deep.{kind}"))
    assert isinstance(outcome, DocumentRejected)
    assert "deep.jsonl" in str(outcome) or "deep.json" in str(outcome)


def test_jsonl_records_holding_unicode_line_separators_stay_whole() -> None:
    # JSON allows raw U+2028, U+0085 and form feeds inside strings; only "\n" ends a record.
    records = [
        {"_id": "d1", "text": "first line\u2028second line"},
        {"_id": "d2", "text": "next\x85line\x0cfeed"},
    ]
    body = "\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n"
    docs = loaded(DocumentInput(body, source="corpus.jsonl"))
    assert [d.id for d in docs] == ["d1", "d2"]
    assert "second line" in docs[0].text


@pytest.mark.parametrize("key", ["", "#document", "$where"])
def test_metadata_keys_the_vector_store_refuses_are_a_rejection(key: str) -> None:
    (outcome,) = outcomes(DocumentInput("Some text.", id="keys", metadata={key: 1}))
    assert isinstance(outcome, DocumentRejected)
    assert "keys" in str(outcome)
    assert "metadata" in outcome.reason


def test_a_record_with_a_refused_metadata_key_is_rejected_alone() -> None:
    lines = (
        '{"id": "a", "text": "First.", "metadata": {"#embedding": 1}}\n'
        '{"id": "b", "text": "Second.", "metadata": {"team": "ops"}}\n'
    )
    first, second = outcomes(DocumentInput(lines, source="batch.jsonl"))
    assert isinstance(first, DocumentRejected)
    assert "'#embedding'" in first.reason
    assert isinstance(second, LoadedDocument)
    assert second.metadata == {"team": "ops"}


def test_a_record_id_of_zero_is_kept() -> None:
    docs = loaded(
        DocumentInput('[{"_id": 0, "text": "zero"}, {"id": 1, "text": "one"}]', content_type="json")
    )
    assert [d.id for d in docs] == ["0", "1"]


def test_a_record_whose_id_is_not_a_plain_value_is_rejected() -> None:
    (outcome,) = outcomes(DocumentInput('[{"id": {"a": 1}, "text": "x"}]', source="ids.json"))
    assert isinstance(outcome, DocumentRejected)
    assert "ids.json record 1" in str(outcome)


def test_a_titled_record_with_empty_text_is_indexed_by_its_title() -> None:
    # BEIR corpora (TREC-COVID, for one) hold papers with a title and no abstract.
    (doc,) = loaded(
        DocumentInput(
            '{"_id": "p1", "title": "Masks reduce spread", "text": ""}', content_type="jsonl"
        )
    )
    assert doc.id == "p1"
    assert doc.text == "Masks reduce spread"


@pytest.mark.parametrize(
    "markup",
    [
        "<html><head><title>Guide</title><body><p>Visible body text.</p></body></html>",
        "<head><meta charset=utf-8><link rel=icon href=x.ico><body>Visible body text.",
        "<!doctype html><html><head><title>Guide</title><p>Visible body text.",
    ],
)
def test_html_whose_head_is_never_closed_keeps_its_body(markup: str) -> None:
    (doc,) = loaded(DocumentInput(markup, content_type="text/html", id="page"))
    assert doc.text == "Visible body text."


def test_html_comments_entities_and_scripts_in_the_head_stay_out() -> None:
    markup = (
        "<head><title>T</title><script>var secret = 1;</script><style>p{}</style>"
        "<body><p>A &amp; B &lt;ok&gt;<!-- hidden comment --></p>"
    )
    (doc,) = loaded(DocumentInput(markup, content_type="text/html", id="page"))
    assert doc.text == "A & B <ok>"
    assert doc.title == "T"


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-32"])
def test_text_with_a_utf16_or_utf32_byte_order_mark_is_decoded(encoding: str) -> None:
    bom = {
        "utf-16": b"",
        "utf-16-be": codecs.BOM_UTF16_BE,
        "utf-32": b"",
    }[encoding]
    raw = bom + "Café notes: drain the node.".encode(encoding)
    (doc,) = loaded(DocumentInput(raw, id="wide", source="notes.txt"))
    assert doc.text == "Café notes: drain the node."


def test_jsonl_in_utf16_is_read_record_by_record() -> None:
    raw = '{"id": "a", "text": "First."}\n{"id": "b", "text": "Second."}\n'.encode("utf-16")
    docs = loaded(DocumentInput(raw, source="records.jsonl"))
    assert [d.id for d in docs] == ["a", "b"]


def test_a_url_source_with_a_fragment_is_typed_by_its_path() -> None:
    (doc,) = loaded(DocumentInput("<p>Hello <b>there</b></p>", source="https://h/guide.html#intro"))
    assert doc.text == "Hello there"


def test_a_pdf_whose_trailer_is_not_a_dictionary_is_rejected_not_a_crash() -> None:
    # Found by mutating a valid PDF: pypdf raises AttributeError on this trailer.
    raw = (
        b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
        b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n"
        b"xref\n0 3\n0000000000 65535 f \n0000000009 00000 n \n0000000058 00000 n \n"
        b"trailer\n0\nstartxref\n109\n%%EOF\n"
    )
    (outcome,) = outcomes(DocumentInput(raw, id="broken.pdf"))
    assert isinstance(outcome, DocumentRejected)
    assert "broken.pdf" in str(outcome)
    assert "not a readable PDF" in outcome.reason


@pytest.mark.parametrize(
    "number", ["100000000000000000000000000000000000000000", "NaN", "Infinity", "-1e999"]
)
def test_a_record_with_metadata_numbers_the_store_cannot_keep_is_rejected_alone(
    number: str,
) -> None:
    lines = (
        f'{{"id": "a", "text": "First.", "metadata": {{"k": {number}}}}}\n'
        '{"id": "b", "text": "Second.", "metadata": {"k": 9223372036854775807}}\n'
    )
    first, second = outcomes(DocumentInput(lines, source="batch.jsonl"))
    assert isinstance(first, DocumentRejected)
    assert "'k'" in first.reason
    assert isinstance(second, LoadedDocument)
    assert second.metadata == {"k": 2**63 - 1}


def test_a_record_takes_its_text_from_the_first_text_field_that_holds_text() -> None:
    lines = '{"id": "a", "text": null, "content": "Quorum is a majority of members."}\n'
    (doc,) = loaded(DocumentInput(lines, source="records.jsonl"))
    assert (doc.id, doc.text) == ("a", "Quorum is a majority of members.")
