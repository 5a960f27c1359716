"""The small Markdown corpus bundled with rag_core for the `ragkube serve` demo."""

from __future__ import annotations

import importlib.resources

from rag_core.documents import DocumentInput


def sample_documents() -> list[DocumentInput]:
    """The bundled documents about ragkube, Kubernetes and RAG, with ids from their file names."""
    folder = importlib.resources.files("rag_core.sample_corpus")
    documents = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".md"):
            documents.append(
                DocumentInput(
                    content=entry.read_text(encoding="utf-8"),
                    id=f"sample-{entry.name.removesuffix('.md')}",
                    source=entry.name,
                    content_type="text/markdown",
                    metadata={"collection": "sample"},
                )
            )
    return documents
