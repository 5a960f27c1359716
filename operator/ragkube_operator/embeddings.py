"""Vector dimensions of known embedding models.

The operator cannot import rag_core (dependencies point one way), so it keeps this small
static table; other models must state `spec.embeddings.dimension`.
"""

from __future__ import annotations

from typing import Final

from ragkube_operator.models import EmbeddingsSpec

DIMENSIONS: Final = {
    "all-MiniLM-L6-v2": 384,
    "sentence-transformers/all-MiniLM-L6-v2": 384,
    "all-MiniLM-L12-v2": 384,
    "all-mpnet-base-v2": 768,
    "BAAI/bge-small-en-v1.5": 384,
    "BAAI/bge-base-en-v1.5": 768,
    "text-embedding-3-small": 1536,
    "text-embedding-3-large": 3072,
    "text-embedding-ada-002": 1536,
}


def embedding_dimension(spec: EmbeddingsSpec) -> int | None:
    """The vector dimension: the spec's own, else the table's, else None (unknown model)."""
    return spec.dimension if spec.dimension is not None else DIMENSIONS.get(spec.model)
