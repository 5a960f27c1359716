"""Questions arriving together share model calls, but a short one never pays for a long one."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from rag_core.embeddings import LocalEmbedder, QueryEncoder, Vectors

LONG = ("How do operators scale replicas and rank the stored vectors of a collection? " * 14)[:1000]


async def test_short_and_long_questions_arriving_together_get_separate_model_calls(
    embedder: LocalEmbedder,
) -> None:
    calls: list[list[str]] = []

    def encode(texts: list[str]) -> Vectors:
        calls.append(list(texts))
        return embedder.embed(texts)

    with ThreadPoolExecutor(max_workers=2) as executor:
        encoder = QueryEncoder(encode, executor)
        questions = ["What is Chroma?", "What is BM25?", LONG, "How do plants make oxygen?"]
        vectors = await asyncio.gather(*(encoder.encode(q) for q in questions))

    # A model call pads every text to the longest, so a short question batched with the
    # 1000-character one would have cost what two long ones cost.
    assert calls == [["What is Chroma?", "What is BM25?", "How do plants make oxygen?"], [LONG]]
    for text, vector in zip(questions, vectors, strict=True):
        assert np.allclose(vector, embedder.embed([text])[0], atol=1e-5)
