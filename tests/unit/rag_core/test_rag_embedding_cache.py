"""The evaluation embedding cache: vectors written once are read back, not recomputed."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rag_core.embeddings import CachedEmbedder, LocalEmbedder, Vectors


class CountingEmbedder:
    """The real model, counting the texts it is asked to encode."""

    def __init__(self, inner: LocalEmbedder) -> None:
        self.inner = inner
        self.encoded = 0
        self.name = inner.name
        self.dimension = inner.dimension

    @property
    def tokenizer(self) -> Any:
        return self.inner.tokenizer

    def embed(self, texts: Sequence[str]) -> Vectors:
        self.encoded += len(texts)
        return self.inner.embed(texts)


def test_saved_vectors_are_read_back_from_the_exact_path(
    embedder: LocalEmbedder, tmp_path: Path
) -> None:
    path = tmp_path / "scifact.cache"  # no ".npz": the cache must not rename it
    texts = ["Aspirin lowers fever.", "Chroma stores vectors."]
    first = CachedEmbedder(CountingEmbedder(embedder), path)
    written = first.embed(texts)
    first.save()

    model = CountingEmbedder(embedder)
    again = CachedEmbedder(model, path).embed(texts)

    assert path.is_file()
    assert list(tmp_path.iterdir()) == [path]
    assert model.encoded == 0
    np.testing.assert_array_equal(again, written)


def test_only_new_texts_reach_the_model(embedder: LocalEmbedder, tmp_path: Path) -> None:
    path = tmp_path / "vectors.npz"
    seeded = CachedEmbedder(embedder, path)
    seeded.embed(["known text"])
    seeded.save()
    model = CountingEmbedder(embedder)

    vectors = CachedEmbedder(model, path).embed(["known text", "new text"])

    assert model.encoded == 1
    assert vectors.shape == (2, embedder.dimension)
