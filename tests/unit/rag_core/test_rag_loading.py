"""Loading turns every supported format into visible text with a stable id, or a clear rejection."""

from __future__ import annotations

import io
import json

import pytest
from pypdf import PdfWriter
from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

from rag_core.documents import DocumentInput, LoadedDocument
from rag_core.errors import DocumentRejected
from rag_core.loading import load_document

LIMIT = 1_000_000


def load_one(document: DocumentInput) -> LoadedDocument:
    outcomes = load_document(document, 0, LIMIT)
    assert len(outcomes) == 1
    outcome = outcomes[0]
    assert isinstance(outcome, LoadedDocument), outcome
    return outcome


def rejection(document: DocumentInput, limit: int = LIMIT) -> str:
    outcomes = load_document(document, 0, limit)
    assert len(outcomes) == 1
    assert isinstance(outcomes[0], DocumentRejected)
    return str(outcomes[0])


def test_plain_text_without_id_gets_a_content_hash_id_that_is_stable() -> None:
    first = load_one(DocumentInput("Pods run containers.", source="notes.txt"))
    second = load_one(DocumentInput(b"Pods run containers.", source="other.txt"))
    assert first.id == second.id
    assert len(first.id) == 32
    assert first.text == "Pods run containers."


def test_given_id_source_and_metadata_are_kept() -> None:
    doc = load_one(
        DocumentInput("Text.", id="doc-1", source="a.txt", metadata={"team": "ops", "v": 2})
    )
    assert (doc.id, doc.source, doc.metadata) == ("doc-1", "a.txt", {"team": "ops", "v": 2})


def test_markdown_title_is_its_first_level_one_heading() -> None:
    doc = load_one(DocumentInput("Intro\n\n# Scaling\n\n## HPA\nText.", source="s.md"))
    assert doc.title == "Scaling"


def test_html_keeps_visible_text_and_title_and_drops_scripts_and_styles() -> None:
    page = (
        "<html><head><title>Ops Guide</title><style>p{color:red}</style></head>"
        "<body><script>alert('x')</script><h2>Restarts</h2><p>Use <b>kubectl</b> rollout.</p>"
        "<noscript>enable js</noscript></body></html>"
    )
    doc = load_one(DocumentInput(page, content_type="text/html"))
    assert doc.title == "Ops Guide"
    assert "## Restarts" in doc.text
    assert "Use kubectl rollout." in doc.text
    for hidden in ("alert", "color:red", "enable js"):
        assert hidden not in doc.text


def _pdf_with_text(text: str) -> bytes:
    writer = PdfWriter()
    page = writer.add_blank_page(width=300, height=200)
    font = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject("/Helvetica"),
        }
    )
    page[NameObject("/Resources")] = DictionaryObject(
        {NameObject("/Font"): DictionaryObject({NameObject("/F1"): writer._add_object(font)})}
    )
    stream = DecodedStreamObject()
    stream.set_data(f"BT /F1 12 Tf 20 100 Td ({text}) Tj ET".encode())
    page[NameObject("/Contents")] = writer._add_object(stream)
    writer.add_metadata({"/Title": "Runbook"})
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def test_pdf_text_and_title_are_extracted() -> None:
    doc = load_one(DocumentInput(_pdf_with_text("Drain the node first."), source="runbook.pdf"))
    assert "Drain the node first." in doc.text
    assert doc.title == "Runbook"


def test_json_record_uses_its_id_title_text_and_metadata() -> None:
    record = {"_id": "r1", "title": "T", "text": "Body.", "metadata": {"year": 2020}}
    doc = load_one(DocumentInput(json.dumps(record), source="r.json"))
    assert (doc.id, doc.title, doc.text, doc.metadata) == ("r1", "T", "Body.", {"year": 2020})


def test_jsonl_gives_one_outcome_per_record_and_bad_records_do_not_lose_good_ones() -> None:
    lines = '{"id": "a", "text": "First."}\nnot json\n{"title": "no text"}\n{"text": "Third."}\n'
    outcomes = load_document(DocumentInput(lines, source="batch.jsonl"), 0, LIMIT)
    assert [type(o).__name__ for o in outcomes] == [
        "LoadedDocument",
        "DocumentRejected",
        "DocumentRejected",
        "LoadedDocument",
    ]
    assert "batch.jsonl line 2" in str(outcomes[1])
    assert "batch.jsonl line 3" in str(outcomes[2])


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        (DocumentInput("   \n ", id="blank"), "empty"),
        (DocumentInput(b"\xff\xfeabc\x80", id="latin"), "not valid UTF-8"),
        (DocumentInput(b"\x00\x01binary", id="bin"), "binary"),
        (DocumentInput("x", id="img", content_type="image/png"), "not supported"),
        (DocumentInput("x", source="slides.pptx"), "not supported"),
        (DocumentInput(b"%PDF-1.4 broken", id="broken.pdf"), "not a readable PDF"),
        (DocumentInput("{oops", source="bad.json"), "not valid JSON"),
    ],
)
def test_bad_input_is_rejected_with_a_sentence_naming_the_document(
    document: DocumentInput, reason: str
) -> None:
    message = rejection(document)
    name = document.id or document.source
    assert name is not None
    assert name in message
    assert reason in message


def test_oversized_input_is_rejected_naming_the_limit() -> None:
    message = rejection(DocumentInput("x" * 100, id="big"), limit=10)
    assert "big" in message
    assert "limit of 10 bytes" in message


def test_non_scalar_metadata_is_rejected() -> None:
    message = rejection(DocumentInput("text", id="m", metadata={"tags": ["a"]}))  # type: ignore[dict-item]
    assert "metadata field 'tags'" in message
