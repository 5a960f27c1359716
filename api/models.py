"""Request and response bodies of the HTTP API (pydantic v2).

`QueryRequest` and `QueryResponse` keep the seed chapter's contract field for field; the
additions (`filters`, `mode`) are optional, so a seed client keeps working unchanged.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from rag_core.documents import (
    DOCUMENT_ID_PATTERN,
    MAX_DOCUMENT_ID_CHARS,
    MetadataValue,
    document_id_problem,
    is_storable_metadata_value,
    is_valid_unicode,
)
from rag_core.filters import MAX_FIELD_CHARS
from rag_core.settings import RagSettings
from ragkube_contract.settings import RETRIEVAL_TOP_K

#: Chroma refuses empty keys and keys starting with "#" or "$" (its own namespaces); refusing
#: them here makes such a document a 422 instead of a failed write of the whole batch.
METADATA_KEY_PATTERN = r"^[^#$]"
MetadataKey = Annotated[
    str, Field(min_length=1, max_length=MAX_FIELD_CHARS, pattern=METADATA_KEY_PATTERN)
]
RetrievalMode = Literal["hybrid", "dense", "lexical"]
#: A query's length in characters (the seed's contract: 3..1000), also rag_core's guardrail.
MIN_QUERY_CHARS = 3
MAX_QUERY_CHARS = RagSettings.max_query_chars


class QueryRequest(BaseModel):
    """A question for the knowledge base."""

    model_config = ConfigDict(extra="forbid")

    query: str = Field(
        min_length=MIN_QUERY_CHARS, max_length=MAX_QUERY_CHARS, description="The question."
    )
    max_results: int | None = Field(
        default=None,
        ge=RETRIEVAL_TOP_K.ge,
        le=RETRIEVAL_TOP_K.le,
        description="Sources to return; the deployment's default (RETRIEVAL_TOP_K) when absent.",
    )
    threshold: float | None = Field(
        default=None,
        ge=0.0,
        le=1.0,
        description="Minimum source similarity in [0, 1]; the deployment's default when absent.",
    )
    use_guardrails: bool = True
    conversation_id: str | None = Field(
        default=None, min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:\-]+$"
    )
    filters: dict[str, Any] | None = Field(
        default=None,
        description='Metadata filters: {"field": value} or {"field": {"$in": [a, b]}}, ANDed.',
    )
    mode: RetrievalMode | None = Field(
        default=None, description="Retrieval mode; the deployment's default when absent."
    )


class SourceOut(BaseModel):
    """A retrieved passage supporting the answer."""

    content: str
    similarity: float
    metadata: dict[str, Any]


class QueryResponse(BaseModel):
    """The answer with its sources (the seed's response model)."""

    request_id: str
    query: str
    answer: str
    sources: list[SourceOut]
    confidence: float
    processing_time: float = Field(description="Seconds spent answering.")
    timestamp: dt.datetime
    guardrails_triggered: list[str]


class DocumentIn(BaseModel):
    """One document of a JSON ingestion batch."""

    model_config = ConfigDict(extra="forbid")

    content: str = Field(min_length=1)
    id: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_DOCUMENT_ID_CHARS,
        pattern=DOCUMENT_ID_PATTERN,
        description="At most 200 characters; no '/', whitespace, control or format characters.",
    )
    source: str | None = Field(default=None, max_length=1000)
    content_type: str | None = Field(default=None, max_length=100)
    metadata: dict[MetadataKey, MetadataValue] = Field(default_factory=dict)

    @field_validator("id")
    @classmethod
    def _valid_id(cls, value: str | None) -> str | None:
        # The one id rule (rag_core.documents), which ids inside JSON records also follow.
        problem = None if value is None else document_id_problem(value)
        if problem is not None:
            raise ValueError(f"not a valid document id: {problem}")
        return value

    @model_validator(mode="after")
    def _storable(self) -> DocumentIn:
        texts = [self.content, self.id, self.source, self.content_type, *self.metadata]
        texts += [v for v in self.metadata.values() if isinstance(v, str)]
        if not all(is_valid_unicode(t) for t in texts if t is not None):
            raise ValueError("text must be valid Unicode (no lone surrogates)")
        if not all(is_storable_metadata_value(v) for v in self.metadata.values()):
            raise ValueError("metadata numbers must be finite and fit in 64 bits")
        return self


class DocumentBatch(BaseModel):
    """Documents to ingest together."""

    model_config = ConfigDict(extra="forbid")

    documents: list[DocumentIn] = Field(min_length=1, max_length=500)


class IngestResultOut(BaseModel):
    """What happened to one document of a batch."""

    document_id: str | None
    source: str | None
    ok: bool
    chunks: int
    error: str | None = None


class IngestResponse(BaseModel):
    """Per-document results; 201 when all succeeded, 207 when some did not."""

    request_id: str
    ingested: int
    failed: int
    results: list[IngestResultOut]


class DocumentOut(BaseModel):
    """A stored document."""

    id: str
    source: str | None
    metadata: dict[str, Any]
    chunks: int


class DocumentOriginalOut(BaseModel):
    """A document as it was ingested, kept so its index can be rebuilt without a re-upload."""

    text: str = Field(description="The visible text loading made of the upload, as chunked.")
    source: str | None
    title: str | None
    metadata: dict[str, Any]
    content_hash: str = Field(description="SHA-256 (first 32 hex digits) of the uploaded bytes.")
    stored_at: str = Field(description="When this version was stored (UTC, ISO 8601).")


class DocumentDetail(DocumentOut):
    """One stored document with its original."""

    original: DocumentOriginalOut | None = Field(
        default=None,
        description="null when the original is not kept (ingested before originals were).",
    )


class DocumentPage(BaseModel):
    """One page of the document list."""

    items: list[DocumentOut]
    total: int
    offset: int
    limit: int


class TokenResponse(BaseModel):
    """An issued access token (OAuth2 password flow)."""

    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 (OAuth2 token type, not a secret)
    expires_in: int
    scopes: list[str]


class WebhookCreate(BaseModel):
    """A runtime webhook registration."""

    model_config = ConfigDict(extra="forbid")

    # No whitespace or control characters: Python's URL parser silently drops tabs and line
    # breaks, so the URL stored would not be the URL called.
    url: str = Field(min_length=8, max_length=2000, pattern=r"^https?://[^\s\x00-\x1f\x7f]+$")
    events: list[str] = Field(min_length=1, max_length=10)
    secret: str | None = Field(
        default=None,
        min_length=16,
        max_length=256,
        description="HMAC key; generated and returned once when absent.",
    )
    description: str = Field(default="", max_length=500)


class WebhookOut(BaseModel):
    """A webhook as listed (never with its secret)."""

    id: str
    url: str
    events: list[str]
    source: Literal["runtime", "operator"]
    description: str


class WebhookCreated(WebhookOut):
    """A new runtime webhook, with its signing secret shown this once."""

    secret: str


class HealthResponse(BaseModel):
    """Liveness."""

    status: Literal["ok"] = "ok"


class ReadyResponse(BaseModel):
    """Readiness with each check's outcome."""

    status: Literal["ready"] = "ready"
    checks: dict[str, bool]


class IndexIdentityOut(BaseModel):
    """What built the active index, as the index records it (never read from settings)."""

    embedding_provider: str
    embedding_model: str
    dimension: int
    normalized: bool
    chunk_size: int
    chunk_overlap: int
    analyzer: str = Field(description="Version of the lexical analysis its BM25 terms came from.")
    built_at: str = Field(description="When its first chunk was written (UTC, ISO 8601).")


class StatsResponse(BaseModel):
    """Collection and service statistics."""

    model_config = ConfigDict(extra="allow")

    documents: int
    chunks: int
    index_version: str
    uptime_seconds: float
    rag: dict[str, Any]
    index: IndexIdentityOut | None = Field(
        default=None, description="null while the index is empty and records no identity."
    )


# --- OpenAI-compatible chat -----------------------------------------------------------------


class ChatMessage(BaseModel):
    """A chat message; content parts other than text are ignored."""

    model_config = ConfigDict(extra="allow")

    role: Literal["system", "user", "assistant", "tool", "developer"]
    content: str | list[dict[str, Any]] | None = None

    def text(self) -> str:
        """The message's text."""
        if self.content is None:
            return ""
        if isinstance(self.content, str):
            return self.content
        return " ".join(
            str(part.get("text", "")) for part in self.content if part.get("type") == "text"
        )


class RagkubeOptions(BaseModel):
    """Retrieval options an OpenAI client can pass in the `ragkube` extension field."""

    model_config = ConfigDict(extra="forbid")

    max_results: int | None = Field(default=None, ge=RETRIEVAL_TOP_K.ge, le=RETRIEVAL_TOP_K.le)
    threshold: float | None = Field(default=None, ge=0.0, le=1.0)
    mode: RetrievalMode | None = None
    filters: dict[str, Any] | None = None
    use_guardrails: bool = True
    conversation_id: str | None = Field(
        default=None, min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:\-]+$"
    )


class ChatCompletionRequest(BaseModel):
    """The subset of OpenAI's chat completion request this service honours.

    The last user message is the question. Sampling options (temperature, max_tokens, ...)
    are accepted and ignored: the deployment's answerer decides them.
    """

    model_config = ConfigDict(extra="allow")

    model: str = Field(min_length=1, max_length=200)
    #: How many, and how much text, is bounded by settings (CHAT_MAX_MESSAGES, CHAT_MAX_CHARS).
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
    ragkube: RagkubeOptions | None = None
