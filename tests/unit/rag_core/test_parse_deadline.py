"""Parsing in worker processes: a document that parses for too long is stopped and rejected
naming the limit, the pool goes on with the next one, and normal documents stay cheap."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from rag_core.documents import DocumentInput, DocumentLimits, LoadedDocument
from rag_core.errors import DocumentRejected
from rag_core.parse_worker import ParsePool
from tests.support.hostile_documents import pdf_sharing_one_stream

BYTES = 10 * 1024 * 1024
LIMITS = DocumentLimits()


@pytest.fixture
def pool() -> Iterator[ParsePool]:
    parse_pool = ParsePool(workers=1, timeout_seconds=1.0)
    yield parse_pool
    parse_pool.close()


def test_a_parse_past_the_deadline_is_stopped_and_rejected_naming_the_limit(
    pool: ParsePool,
) -> None:
    pool.load(DocumentInput("warm up", id="w"), 0, BYTES, LIMITS)  # a worker is ready
    bomb = DocumentInput(pdf_sharing_one_stream(pages=5, lines=15_000), id="bomb")  # ~9 s
    started = time.perf_counter()
    (outcome,) = pool.load(bomb, 0, BYTES, LIMITS)
    assert time.perf_counter() - started < 5
    assert isinstance(outcome, DocumentRejected)
    assert outcome.document == "bomb"
    assert "parse_timeout_seconds" in outcome.reason


def test_the_pool_parses_the_next_document_after_stopping_one(pool: ParsePool) -> None:
    pool.load(
        DocumentInput(pdf_sharing_one_stream(pages=5, lines=15_000), id="b"), 0, BYTES, LIMITS
    )
    (outcome,) = pool.load(DocumentInput("Rivers carry water.", id="next"), 0, BYTES, LIMITS)
    assert isinstance(outcome, LoadedDocument)
    assert outcome.text == "Rivers carry water."


def test_rejections_and_records_come_back_from_the_worker_whole(pool: ParsePool) -> None:
    lines = '{"id": "a", "text": "First."}\n{"id": "../x", "text": "Second."}\n'
    first, second = pool.load(DocumentInput(lines, source="r.jsonl"), 0, BYTES, LIMITS)
    assert isinstance(first, LoadedDocument)
    assert first.id == "a"
    assert isinstance(second, DocumentRejected)
    assert second.document == "r.jsonl line 2"
    assert "not a valid id" in second.reason


def test_a_closed_pool_starts_workers_again_on_the_next_document(pool: ParsePool) -> None:
    pool.load(DocumentInput("one", id="1"), 0, BYTES, LIMITS)
    pool.close()
    (outcome,) = pool.load(DocumentInput("two", id="2"), 0, BYTES, LIMITS)
    assert isinstance(outcome, LoadedDocument)
