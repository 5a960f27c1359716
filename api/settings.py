"""The API's settings, read from environment variables by pydantic-settings.

The names are the seed chapter's `.env.example` names plus the ones in
`ragkube_contract.api_image` (what the operator writes into the ConfigMap and Secret) and a
few of our own. Nothing here is read at import time: `Settings()` reads the environment when
it is built, normally once in `api.serve`.
"""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from rag_core.settings import RagSettings
from ragkube_contract import api_image
from ragkube_contract import settings as shared
from ragkube_contract.settings import EmbeddingsProvider, RetrievalMode

#: Secrets that appear in examples (the seed chapter's `.env.example` among them). A
#: production deployment that still carries one of these has not been configured.
PLACEHOLDER_SECRETS = frozenset(
    {
        "your-secret-key-here",
        "your-super-secret-jwt-key-change-in-production",
        "change-me",
        "changeme",
        "secret",
        "development-only-change-me",
    }
)
#: HS256 needs a key of at least the hash's output size to give its full strength.
MIN_SECRET_BYTES = 32


def _split_csv(value: Any) -> Any:
    """Accept `a,b,c` or a JSON list for list-valued settings."""
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return []
        if text.startswith("["):
            return json.loads(text)
        return [item.strip() for item in text.split(",") if item.strip()]
    return value


CsvList = Annotated[list[str], NoDecode]


class Settings(BaseSettings):
    """Every setting of one API process; see `.env.example` for the documented list."""

    model_config = SettingsConfigDict(
        env_file=None, case_sensitive=False, extra="ignore", populate_by_name=True
    )

    # --- identity and mode -------------------------------------------------------------
    app_name: str = "ragkube"
    ragkube_env: Literal["development", "production"] = "development"

    # --- HTTP server (api.serve) ---------------------------------------------------------
    host: str = "127.0.0.1"
    port: int = api_image.API_PORT
    workers: int = Field(default=1, ge=1, le=64)
    #: Connection hygiene (api.http_protocol): idle time between requests on a connection,
    #: time to complete a request's headers, longest pause inside a request body, and the
    #: requests one worker answers at once before it answers 503 + Retry-After.
    http_keep_alive_timeout_seconds: int = Field(default=5, ge=1, le=300)
    http_header_timeout_seconds: float = Field(default=10.0, gt=0, le=300)
    http_body_timeout_seconds: float = Field(default=30.0, gt=0, le=3600)
    http_max_concurrency: int = Field(default=128, ge=1, le=100_000)

    # --- rag_core ------------------------------------------------------------------------
    data_dir: Path = Path("./data")
    chroma_db_path: Path | None = None  # seed name; DATA_DIR wins when both are set
    chroma_host: str | None = None
    chroma_port: int = api_image.CHROMA_PORT
    chroma_auth_token: SecretStr | None = None
    chroma_collection_name: str = "ragkube"
    #: Bound on each request to the Chroma server; a frozen server then fails fast (503).
    chroma_timeout_seconds: float = Field(default=10.0, gt=0)
    embeddings_provider: EmbeddingsProvider = shared.EMBEDDINGS_PROVIDER.field()
    embeddings_model: str = shared.EMBEDDINGS_MODEL.field()
    llm_provider: Literal["extractive", "openai-compatible"] | None = None
    llm_model: str = "gpt-4o-mini"
    llm_base_url: str | None = None
    llm_timeout_seconds: float = shared.LLM_TIMEOUT_SECONDS.field(gt=0)
    #: LLM_FALLBACK_EXTRACTIVE: answer extractively (flagged `llm_fallback`) when the model
    #: fails, instead of 502/503/504. On by default.
    llm_fallback_extractive: bool = True
    openai_api_key: SecretStr | None = None
    # Defaults, bounds and meaning of the settings a RagDeployment's spec also sets are
    # declared once, in ragkube_contract.settings.
    retrieval_mode: RetrievalMode = shared.RETRIEVAL_MODE.field()
    retrieval_top_k: int = shared.RETRIEVAL_TOP_K.field()
    retrieval_threshold: float = shared.RETRIEVAL_THRESHOLD.field()
    retrieval_fusion_dense_weight: float = shared.RETRIEVAL_FUSION_DENSE_WEIGHT.field()
    chunk_size: int = shared.CHUNK_SIZE.field()
    chunk_overlap: int = shared.CHUNK_OVERLAP.field()
    guardrails_enabled: bool = shared.GUARDRAILS_ENABLED.field()
    guardrails_blocked_patterns: CsvList = Field(default_factory=list)
    #: GUARDRAILS_ALLOW_OPT_OUT: let every caller send `use_guardrails: false`; by default
    #: only callers with the `admin` scope may (others get 403).
    guardrails_allow_opt_out: bool = False
    conversation_turns: int = Field(default=5, ge=0, le=50)
    #: MAX_FILTER_KEYS / MAX_FILTER_VALUES: fields in a query's filters, and values in them
    #: altogether (an equality counts one, an `$in` its length); over either, 400.
    max_filter_keys: int = Field(default=RagSettings.max_filter_keys, ge=1, le=256)
    max_filter_values: int = Field(default=RagSettings.max_filter_values, ge=1, le=16_384)
    #: CHAT_MAX_MESSAGES / CHAT_MAX_CHARS: messages in a /v1/chat/completions request, and
    #: the characters of their text altogether; over either, 400.
    chat_max_messages: int = Field(default=100, ge=1, le=1000)
    chat_max_chars: int = Field(default=100_000, ge=1000, le=10_000_000)
    max_document_bytes: int = Field(default=10 * 1024 * 1024, ge=1)
    #: Per-document limits past the upload's bytes (docs/operations.md, "Limits"); a
    #: document over one is that document's error result, naming the setting.
    max_document_text_chars: int = Field(default=RagSettings.max_document_text_chars, ge=1)
    max_pdf_pages: int = Field(default=RagSettings.max_pdf_pages, ge=1)
    max_pdf_objects: int = Field(default=RagSettings.max_pdf_objects, ge=1)
    max_document_nesting: int = Field(default=RagSettings.max_document_nesting, ge=1, le=10_000)
    max_document_chunks: int = Field(default=RagSettings.max_document_chunks, ge=1)
    parse_timeout_seconds: float = Field(default=RagSettings.parse_timeout_seconds, gt=0)
    parse_workers: int = Field(default=RagSettings.parse_workers, ge=1, le=64)
    ingest_sample_corpus: bool = False

    # --- auth ------------------------------------------------------------------------------
    jwt_secret_key: SecretStr | None = None
    jwt_algorithm: Literal["HS256", "HS384", "HS512"] = "HS256"
    jwt_expire_minutes: int = shared.JWT_EXPIRE_MINUTES.field()
    users_file: Path | None = None

    # --- HTTP behaviour ----------------------------------------------------------------------
    allowed_origins: CsvList = Field(default_factory=list)
    max_request_bytes: int = Field(default=12 * 1024 * 1024, ge=1024)
    rate_limit_requests: int = shared.RATE_LIMIT_REQUESTS.field()
    rate_limit_window: int = shared.RATE_LIMIT_WINDOW.field()
    #: What the limiter does when Redis cannot be reached: "open" lets the request through
    #: (availability first), "closed" answers 503 (protection first).
    rate_limit_on_redis_error: Literal["open", "closed"] = "open"
    #: Proxies whose X-Forwarded-For header is believed (IP addresses or CIDR blocks).
    trusted_proxies: CsvList = Field(default_factory=list)
    answer_cache_ttl_seconds: int = Field(default=300, ge=0)
    answer_cache_max_entries: int = Field(default=1024, ge=1)

    # --- shared state ------------------------------------------------------------------------
    redis_url: SecretStr | None = None
    #: LEXICAL_INDEX_URL / LEXICAL_INDEX_TOKEN: the storage tier's lexical index server,
    #: shared by every replica (the operator sets both); unset, the index is in-process.
    lexical_index_url: str | None = None
    lexical_index_token: SecretStr | None = None
    #: The consistency sweep (api.lexical_repair): seconds between passes (0: off), documents
    #: compared per step, and the pause between steps.
    lexical_repair_interval_seconds: float = Field(default=300.0, ge=0)
    lexical_repair_page_documents: int = Field(default=100, ge=1, le=10_000)
    lexical_repair_pause_seconds: float = Field(default=0.5, ge=0)
    redis_key_prefix: str = "ragkube"

    # --- webhooks ----------------------------------------------------------------------------
    webhooks_file: Path | None = None
    #: Hosts, IP addresses or CIDR blocks webhooks may target even though they are private.
    webhook_allowlist: CsvList = Field(default_factory=list)
    webhook_max_attempts: int = Field(default=6, ge=1, le=50)
    webhook_backoff_base_seconds: float = Field(default=1.0, gt=0)
    webhook_backoff_max_seconds: float = Field(default=300.0, gt=0)
    webhook_timeout_seconds: float = Field(default=10.0, gt=0)
    webhook_poll_seconds: float = Field(default=1.0, gt=0)

    # --- observability -------------------------------------------------------------------------
    log_level: str = "INFO"
    log_format: Literal["json", "console"] | None = None
    enable_metrics: bool = True
    sentry_dsn: SecretStr | None = None

    @field_validator(
        "allowed_origins",
        "trusted_proxies",
        "webhook_allowlist",
        "guardrails_blocked_patterns",
        mode="before",
    )
    @classmethod
    def _csv(cls, value: Any) -> Any:
        return _split_csv(value)

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for item in value:
            ipaddress.ip_network(item, strict=False)  # raises ValueError with the bad entry
        return value

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError(
                f"LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL, not {value!r}"
            )
        return level

    @model_validator(mode="after")
    def _production_secrets(self) -> Settings:
        if self.chunk_overlap >= self.chunk_size:
            raise ValueError("CHUNK_OVERLAP must be smaller than CHUNK_SIZE")
        if not self.is_production:
            return self
        if self.jwt_secret_key is None:
            raise ValueError(
                "JWT_SECRET_KEY is required when RAGKUBE_ENV=production: set it to a random "
                f"value of at least {MIN_SECRET_BYTES} bytes (e.g. `openssl rand -hex 32`)."
            )
        secret = self.jwt_secret_key.get_secret_value()
        if secret.strip().lower() in PLACEHOLDER_SECRETS:
            raise ValueError(
                "JWT_SECRET_KEY is an example placeholder from the documentation; refusing to "
                "start in production with it. Generate one with `openssl rand -hex 32`."
            )
        if len(secret.encode()) < MIN_SECRET_BYTES:
            raise ValueError(
                f"JWT_SECRET_KEY is {len(secret.encode())} bytes long; production needs at least "
                f"{MIN_SECRET_BYTES} bytes. Generate one with `openssl rand -hex 32`."
            )
        return self

    @property
    def is_production(self) -> bool:
        """True when RAGKUBE_ENV=production (strict secrets, JSON logs, no generated users)."""
        return self.ragkube_env == "production"

    @property
    def effective_log_format(self) -> Literal["json", "console"]:
        """JSON in production, console in development, unless LOG_FORMAT says otherwise."""
        if self.log_format is not None:
            return self.log_format
        return "json" if self.is_production else "console"

    @property
    def effective_data_dir(self) -> Path:
        """DATA_DIR, or the seed's CHROMA_DB_PATH when only that one is set."""
        if "data_dir" not in self.model_fields_set and self.chroma_db_path is not None:
            return self.chroma_db_path
        return self.data_dir

    @property
    def effective_llm_provider(self) -> Literal["extractive", "openai-compatible"]:
        """The configured LLM provider; without one, an OpenAI key selects the remote model."""
        if self.llm_provider is not None:
            return self.llm_provider
        return "openai-compatible" if self.openai_api_key is not None else "extractive"

    def to_rag_settings(self) -> RagSettings:
        """The rag_core configuration these settings describe."""

        def secret(value: SecretStr | None) -> str | None:
            return value.get_secret_value() if value is not None else None

        return RagSettings(
            data_dir=self.effective_data_dir,
            chroma_host=self.chroma_host or None,
            chroma_port=self.chroma_port,
            chroma_auth_token=secret(self.chroma_auth_token),
            collection_name=self.chroma_collection_name,
            chroma_timeout_seconds=self.chroma_timeout_seconds,
            embeddings_provider=self.embeddings_provider,
            embeddings_model=self.embeddings_model,
            llm_provider=self.effective_llm_provider,
            llm_model=self.llm_model,
            llm_base_url=self.llm_base_url or None,
            llm_api_key=secret(self.openai_api_key),
            llm_timeout_seconds=self.llm_timeout_seconds,
            llm_fallback_to_extractive=self.llm_fallback_extractive,
            retrieval_mode=self.retrieval_mode,
            top_k=self.retrieval_top_k,
            threshold=self.retrieval_threshold,
            fusion_dense_weight=self.retrieval_fusion_dense_weight,
            chunk_size=self.chunk_size,
            chunk_overlap=self.chunk_overlap,
            guardrails_enabled=self.guardrails_enabled,
            blocked_patterns=tuple(self.guardrails_blocked_patterns),
            redis_url=self.redis_url_value(),
            lexical_index_url=self.lexical_index_url or None,
            lexical_index_token=secret(self.lexical_index_token),
            conversation_turns=self.conversation_turns,
            max_filter_keys=self.max_filter_keys,
            max_filter_values=self.max_filter_values,
            max_document_bytes=self.max_document_bytes,
            max_document_text_chars=self.max_document_text_chars,
            max_pdf_pages=self.max_pdf_pages,
            max_pdf_objects=self.max_pdf_objects,
            max_document_nesting=self.max_document_nesting,
            max_document_chunks=self.max_document_chunks,
            parse_timeout_seconds=self.parse_timeout_seconds,
            parse_workers=self.parse_workers,
        )

    def redis_url_value(self) -> str | None:
        """The Redis URL in clear text (for the client only; never log it)."""
        return self.redis_url.get_secret_value() if self.redis_url is not None else None
