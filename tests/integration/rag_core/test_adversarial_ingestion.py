"""Hostile documents in a batch, end to end (real model, real embedded Chroma, real BM25).

Whatever one document holds, the others of its batch are stored and found, and the bad one
comes back as a failed result naming it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from rag_core import DocumentInput, RagSettings, RAGSystem

#: Found by mutating a valid PDF: pypdf raises AttributeError on a trailer that is a number.
PDF_WITH_A_NUMBER_FOR_A_TRAILER = (
    b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
    b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n"
    b"xref\n0 3\n0000000000 65535 f \n0000000009 00000 n \n0000000058 00000 n \n"
    b"trailer\n0\nstartxref\n109\n%%EOF\n"
)


@pytest.fixture
async def system(tmp_path: Path) -> AsyncIterator[RAGSystem]:
    rag = RAGSystem(RagSettings(data_dir=tmp_path))
    await rag.astart()
    yield rag
    await rag.aclose()


@pytest.mark.parametrize(
    "bad",
    [
        DocumentInput("Pods with a lone \ud800 surrogate.", id="bad"),
        DocumentInput("Pods with odd metadata.", id="bad", metadata={"#document": "x"}),
        DocumentInput("Pods with odd metadata.", id="bad", metadata={"": "x"}),
        DocumentInput("[" * 100_000, id="bad", content_type="json"),
        DocumentInput(PDF_WITH_A_NUMBER_FOR_A_TRAILER, id="bad", source="bad.pdf"),
    ],
    ids=["lone-surrogate", "hash-metadata-key", "empty-metadata-key", "deep-json", "broken-pdf"],
)
async def test_one_hostile_document_does_not_lose_its_batch(
    system: RAGSystem, bad: DocumentInput
) -> None:
    results = await system.aingest(
        [
            DocumentInput("Taints repel pods from nodes.", id="taints"),
            bad,
            DocumentInput("Tolerations let pods onto tainted nodes.", id="tolerations"),
        ]
    )
    assert [(r.document_id, r.ok) for r in results] == [
        ("taints", True),
        ("bad", False),
        ("tolerations", True),
    ]
    assert results[1].error is not None
    assert "'bad'" in results[1].error
    assert await system.aget_document("bad") is None
    sources, _ = await system.asearch("tolerations tainted nodes", mode="lexical")
    assert sources[0].metadata["document_id"] == "tolerations"


async def test_a_jsonl_file_loses_only_its_bad_records(system: RAGSystem) -> None:
    records = (
        '{"id": "r1", "text": "Quotas cap namespace usage.", "metadata": {"team": "ops"}}\n'
        '{"id": "r2", "text": "Bad key.", "metadata": {"$where": 1}}\n'
        '{"id": "r3", "text": "Escaped \\ud800 surrogate."}\n'
        '{"id": "r4", "text": "Limit ranges set default requests\u2028per container."}\n'
    )
    results = await system.aingest([DocumentInput(records, source="records.jsonl")])
    assert [r.ok for r in results] == [True, False, False, True]
    assert results[1].error is not None
    assert "records.jsonl line 2" in results[1].error or "r2" in results[1].error
    assert (await system.astats())["documents"] == 2
    sources, _ = await system.asearch("default requests per container", mode="lexical")
    assert sources[0].metadata["document_id"] == "r4"
    assert "per container" in sources[0].content
