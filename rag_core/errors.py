"""Domain errors raised by rag_core; the API maps each one to an HTTP answer in one place."""

from __future__ import annotations

from typing import Any


class RagError(Exception):
    """Base class of every error rag_core raises on purpose."""


class DocumentRejected(RagError):
    """A document could not be ingested; the message names the document and says why."""

    def __init__(self, document: str, reason: str) -> None:
        self.document = document
        self.reason = reason
        super().__init__(f"Document {document!r} was rejected: {reason}")

    def __reduce__(self) -> tuple[type[DocumentRejected], tuple[str, str]]:
        # Rejections come back from parse worker processes; the default pickling would
        # call __init__ with the message alone.
        return (DocumentRejected, (self.document, self.reason))


class VectorStoreUnavailable(RagError):
    """The vector store (Chroma) could not be reached or answered with an error."""


class LexicalIndexUnavailable(RagError):
    """The lexical index server could not be reached or failed; hybrid queries fall back to
    dense retrieval (flagged) and lexical-only queries fail with 503."""


class LLMUnavailable(RagError):
    """The language model endpoint failed or could not be reached."""


class LLMTimeout(LLMUnavailable):
    """The language model endpoint did not answer within the configured timeout."""


class LLMRateLimited(LLMUnavailable):
    """The language model endpoint refused the call because of its rate limit."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        self.retry_after = retry_after
        super().__init__(message)


class IndexModelMismatch(RagError):
    """The active index was built by another embedding model, chunking or analyzer than this
    deployment is configured with; it is neither queried nor written (`details` names both)."""

    def __init__(self, message: str, details: dict[str, Any]) -> None:
        self.details = details
        super().__init__(message)


class InvalidQuery(RagError):
    """The query or its options are not acceptable (empty, unknown mode, bad filter)."""


class LimitExceeded(InvalidQuery):
    """A request goes over one of the deployment's limits; `limit` names the setting and
    `maximum` its value, so a caller can tell what to shrink (and that retrying cannot help)."""

    def __init__(self, message: str, *, limit: str, maximum: int) -> None:
        self.limit = limit
        self.maximum = maximum
        super().__init__(message)
