"""rag_core: ingestion, retrieval and grounded answers for ragkube.

The API uses the facade: `RAGSystem(RagSettings(...))`, then `await astart()`, `aquery()`,
`astream()`, `aingest()` and the document calls. Importing this package does no work.
"""

from rag_core.answers import QueryResult, Source, StreamEvent
from rag_core.documents import DocumentInfo, DocumentInput, IngestResult
from rag_core.errors import (
    DocumentRejected,
    InvalidQuery,
    LimitExceeded,
    LLMRateLimited,
    LLMTimeout,
    LLMUnavailable,
    RagError,
    VectorStoreUnavailable,
)
from rag_core.settings import RagSettings
from rag_core.system import RAGSystem

__all__ = [
    "DocumentInfo",
    "DocumentInput",
    "DocumentRejected",
    "IngestResult",
    "InvalidQuery",
    "LLMRateLimited",
    "LLMTimeout",
    "LLMUnavailable",
    "LimitExceeded",
    "QueryResult",
    "RAGSystem",
    "RagError",
    "RagSettings",
    "Source",
    "StreamEvent",
    "VectorStoreUnavailable",
]
