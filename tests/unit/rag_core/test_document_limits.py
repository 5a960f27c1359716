"""What one document may cost: every input that expands past a limit is rejected naming it,
every parser error is that document's rejection, and ids follow one rule wherever they come
from. Found by a hostile-caller probe (issue 19)."""

from __future__ import annotations

import json
import time

import pytest

from rag_core.documents import DocumentInput, DocumentLimits, LoadedDocument
from rag_core.errors import DocumentRejected
from rag_core.loading import load_document
from tests.support.hostile_documents import pdf_sharing_one_stream

BYTES = 10 * 1024 * 1024


def only_rejection(document: DocumentInput, limits: DocumentLimits | None = None) -> str:
    (outcome,) = load_document(document, 0, BYTES, limits or DocumentLimits())
    assert isinstance(outcome, DocumentRejected), outcome
    return outcome.reason


def test_html_that_made_the_standard_library_parser_quadratic_loads_at_once() -> None:
    # 100 KB of "<a" took CPython's html.parser 33 s.
    started = time.perf_counter()
    outcomes = load_document(
        DocumentInput("<p>Intro</p>" + "<a" * 50_000, content_type="html"), 0, BYTES
    )
    assert time.perf_counter() - started < 5
    assert isinstance(outcomes[0], LoadedDocument)
    assert outcomes[0].text.startswith("Intro")


def test_html_nested_past_the_limit_is_rejected_naming_it() -> None:
    markup = "<div>" * 300 + "deep" + "</div>" * 300
    reason = only_rejection(
        DocumentInput(markup, content_type="html"), DocumentLimits(max_nesting=256)
    )
    assert "max_document_nesting" in reason


def test_html_headings_title_and_hidden_elements_read_as_before() -> None:
    page = (
        "<html><head><title> Ops  Guide </title><script>x()</script></head><body>"
        "<h1>Restarts</h1><p>Use &amp; <b>roll</b> out.</p><template>t</template>"
        "<svg><text>drawn</text></svg><ul><li>one</li><li>two</li></ul></body></html>"
    )
    (doc,) = load_document(DocumentInput(page, content_type="html"), 0, BYTES)
    assert isinstance(doc, LoadedDocument)
    assert doc.title == "Ops Guide"
    assert doc.text == "# Restarts\n\nUse & roll out.\n\none\n\ntwo"


def test_a_pdf_whose_pages_share_one_stream_stops_at_the_text_limit() -> None:
    # 2.7 KB that used to expand to 2.2 million characters of text in 9 s.
    bomb = pdf_sharing_one_stream(pages=5, lines=15_000)
    assert len(bomb) < 4_000
    started = time.perf_counter()
    reason = only_rejection(
        DocumentInput(bomb, content_type="pdf"), DocumentLimits(max_text_chars=100_000)
    )
    assert "max_document_text_chars" in reason
    assert "page 1 of 5" in reason  # it stopped after the first page
    assert time.perf_counter() - started < 5


@pytest.mark.parametrize(
    ("limits", "counted", "setting"),
    [
        (DocumentLimits(max_pdf_pages=4), "5 pages", "max_pdf_pages"),
        (DocumentLimits(max_pdf_objects=8), "9 objects", "max_pdf_objects"),
    ],
)
def test_a_pdf_over_its_page_or_object_limit_is_rejected_before_pages_are_read(
    limits: DocumentLimits, counted: str, setting: str
) -> None:
    pdf = pdf_sharing_one_stream(pages=5, lines=3)
    reason = only_rejection(DocumentInput(pdf, content_type="pdf"), limits)
    assert counted in reason
    assert setting in reason


def test_a_pdf_within_the_limits_still_loads_every_page() -> None:
    (doc,) = load_document(DocumentInput(pdf_sharing_one_stream(pages=2, lines=3)), 0, BYTES)
    assert isinstance(doc, LoadedDocument)
    assert doc.text.count("rivers carry water to the sea") == 6


def test_a_pdf_stream_with_an_unknown_filter_is_a_rejection_not_an_exception() -> None:
    # pypdf raises NotImplementedError for it, which used to fail the whole batch with a 500.
    pdf = pdf_sharing_one_stream(pages=1, lines=3, filters=b"/NoSuchDecode")
    reason = only_rejection(DocumentInput(pdf, content_type="pdf"))
    assert "NotImplementedError" in reason


def test_plain_text_longer_than_the_text_limit_is_rejected_naming_it() -> None:
    reason = only_rejection(
        DocumentInput("word " * 300, id="long"), DocumentLimits(max_text_chars=1_000)
    )
    assert "1500 characters" in reason
    assert "max_document_text_chars" in reason


def test_a_json_number_of_more_than_4300_digits_is_that_records_rejection() -> None:
    lines = '{"id": "a", "text": "Fine."}\n{"id": "b", "text": "x", "n": ' + "9" * 5000 + "}\n"
    first, second = load_document(DocumentInput(lines, source="r.jsonl"), 0, BYTES)
    assert isinstance(first, LoadedDocument)
    assert isinstance(second, DocumentRejected)
    assert "number too long" in second.reason


@pytest.mark.parametrize("kind", ["json", "jsonl"])
def test_json_nested_past_the_limit_is_rejected_naming_it(kind: str) -> None:
    record = '{"text": "deep", "x": ' + "[" * 40 + "]" * 40 + "}"
    reason = only_rejection(
        DocumentInput(record, content_type=kind), DocumentLimits(max_nesting=32)
    )
    assert "max_document_nesting" in reason


INVALID_IDS = [
    pytest.param("../../etc/passwd", id="path"),
    pytest.param("a\nb", id="newline"),
    pytest.param("evil\u202etxt.exe", id="right-to-left override"),
    pytest.param("x" * 5000, id="5000 characters"),
    pytest.param("..", id="dot segment"),
    pytest.param("zero\u200bwidth", id="zero-width space"),
]


@pytest.mark.parametrize("bad_id", INVALID_IDS)
def test_a_json_record_with_an_invalid_id_is_rejected_alone(bad_id: str) -> None:
    records = json.dumps([{"id": "fine", "text": "Kept."}, {"id": bad_id, "text": "Dropped."}])
    first, second = load_document(DocumentInput(records, source="r.json"), 0, BYTES)
    assert isinstance(first, LoadedDocument)
    assert first.id == "fine"
    assert isinstance(second, DocumentRejected)
    assert "not a valid id" in second.reason
    assert len(str(second)) < 300  # a 5,000-character id is not echoed back whole


@pytest.mark.parametrize("bad_id", INVALID_IDS)
def test_a_document_given_an_invalid_id_is_rejected(bad_id: str) -> None:
    assert "not a valid id" in only_rejection(DocumentInput("Some text.", id=bad_id))


@pytest.mark.parametrize("good_id", ["doc-1", "ünïcode", "a.b:c_d", "%41?#&=", "x" * 200])
def test_ids_that_fit_a_url_path_segment_are_kept(good_id: str) -> None:
    records = json.dumps({"id": good_id, "text": "Kept."})
    (doc,) = load_document(DocumentInput(records, content_type="json"), 0, BYTES)
    assert isinstance(doc, LoadedDocument)
    assert doc.id == good_id
