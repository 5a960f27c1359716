"""The API's request and response bodies, as the SDK sees them (pydantic v2).

These mirror `api.models` field for field without importing the server (an SDK user needs
neither FastAPI nor the model); `tests/unit/sdk/test_sdk_models_match_openapi.py` compares
them with the API's OpenAPI schema so the two cannot drift apart. Response models ignore
fields they do not know, so an older SDK keeps working against a newer server.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

MetadataValue = str | int | float | bool
#: Metadata keys the vector store accepts: not empty, not starting with "#" or "$".
MetadataKey = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^#$]")]
RetrievalMode = Literal["hybrid", "dense", "lexical"]


class _Response(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Source(_Response):
    """A retrieved passage supporting the answer."""

    content: str
    similarity: float
    metadata: dict[str, Any]


class QueryResponse(_Response):
    """An answer with the sources it rests on."""

    request_id: str
    query: str
    answer: str
    sources: list[Source]
    confidence: float
    processing_time: float
    timestamp: dt.datetime
    guardrails_triggered: list[str]


class DocumentIn(BaseModel):
    """One document to ingest as JSON."""

    model_config = ConfigDict(extra="forbid")

    content: str = Field(min_length=1)
    id: str | None = None
    source: str | None = None
    content_type: str | None = None
    metadata: dict[MetadataKey, MetadataValue] = Field(default_factory=dict)


class IngestResult(_Response):
    """What happened to one document of a batch."""

    document_id: str | None
    source: str | None
    ok: bool
    chunks: int
    error: str | None = None


class IngestResponse(_Response):
    """Per-document results of an ingestion request (some may have failed)."""

    request_id: str
    ingested: int
    failed: int
    results: list[IngestResult]


class Document(_Response):
    """A stored document."""

    id: str
    source: str | None
    metadata: dict[str, Any]
    chunks: int


class DocumentOriginal(_Response):
    """A document as it was ingested (its visible text, as chunked), kept for re-indexing."""

    text: str
    source: str | None
    title: str | None
    metadata: dict[str, Any]
    content_hash: str
    stored_at: str


class DocumentDetail(Document):
    """One stored document with its original; `original` is None where it is not kept."""

    original: DocumentOriginal | None = None


class DocumentPage(_Response):
    """One page of the document list."""

    items: list[Document]
    total: int
    offset: int
    limit: int


class Token(_Response):
    """An access token from `POST /auth/login`."""

    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 (OAuth2 token type, not a secret)
    expires_in: int
    scopes: list[str]


class Webhook(_Response):
    """A webhook subscription (listed without its secret)."""

    id: str
    url: str
    events: list[str]
    source: Literal["runtime", "operator"]
    description: str


class WebhookCreated(Webhook):
    """A new runtime webhook with its signing secret, shown this once."""

    secret: str


class Health(_Response):
    """Liveness."""

    status: Literal["ok"] = "ok"


class Readiness(_Response):
    """Readiness and each check's outcome."""

    status: Literal["ready"] = "ready"
    checks: dict[str, bool]


class IndexIdentity(_Response):
    """What built the active index, as the index records it."""

    embedding_provider: str
    embedding_model: str
    dimension: int
    normalized: bool
    chunk_size: int
    chunk_overlap: int
    analyzer: str
    built_at: str


class Stats(BaseModel):
    """Collection and service statistics."""

    model_config = ConfigDict(extra="allow")

    documents: int
    chunks: int
    index_version: str
    uptime_seconds: float
    rag: dict[str, Any]
    #: None while the index is empty and records no identity (and from older servers).
    index: IndexIdentity | None = None


class ErrorEnvelope(_Response):
    """The body of every 4xx and 5xx answer."""

    error: str
    message: str
    request_id: str | None = None
    timestamp: dt.datetime | None = None
    details: Any = None


# --- POST /query/stream events ---------------------------------------------------------------


class SourcesEvent(_Response):
    """First event of a stream: the passages the answer will rest on."""

    type: Literal["sources"] = "sources"
    sources: list[Source]
    standalone_query: str | None = None


class TokenEvent(_Response):
    """A piece of the answer's text."""

    type: Literal["token"] = "token"
    text: str


class FinalEvent(_Response):
    """Last event of a stream: the judged answer and how it was reached."""

    type: Literal["final"] = "final"
    answer: str = ""
    confidence: float
    guardrails_triggered: list[str] = Field(default_factory=list)
    timings: dict[str, float] = Field(default_factory=dict)
    blocked: bool = False
    request_id: str | None = None
    processing_time: float | None = None


StreamEvent = SourcesEvent | TokenEvent | FinalEvent
