"""The settings a RagDeployment's spec and the API process share, each declared once.

A user sets `spec.retrieval.topK` in a RagDeployment; the operator writes it into the API's
ConfigMap as `RETRIEVAL_TOP_K`; the API reads it with pydantic-settings and hands it to
rag_core. Each step used to carry its own default and bounds, and they drifted (the CRD's
threshold defaulted to 0.0 while the API's was 0.25). Now the operator's spec model, the
API's `Settings`, rag_core's `RagSettings` and the generated reference all take the default,
the bounds and the one line of meaning from the declarations below.

`SHARED` lists these settings; `OPERATOR_CHOSEN` names the other variables the operator
writes (`api_image.CONFIG_ENV`): their value is the operator's wiring or policy for a pod in
a cluster, not a user default the API has to agree with. A test checks that the two
together cover every variable the operator writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final, Generic, Literal, TypeVar, get_args

from pydantic import Field

from ragkube_contract import index_server

T = TypeVar("T")

RetrievalMode = Literal["hybrid", "dense", "lexical"]
RETRIEVAL_MODES: Final[tuple[RetrievalMode, ...]] = get_args(RetrievalMode)
EmbeddingsProvider = Literal["local", "openai-compatible"]


@dataclass(frozen=True)
class Setting(Generic[T]):
    """One setting: its environment name, default, bounds and meaning.

    `ge`/`gt`/`le` bound numbers as pydantic's `Field` does (and become the CRD's
    `minimum`/`exclusiveMinimum`/`maximum`). The Python type is the consumer's annotation;
    `default` carries it for mypy.
    """

    env: str
    default: T
    description: str
    ge: float | None = None
    gt: float | None = None
    le: float | None = None

    @property
    def field_name(self) -> str:
        """The attribute of the API's `Settings` that reads this variable."""
        return self.env.lower()

    def field(self, **extra: Any) -> Any:
        """A pydantic `Field` with this default, bounds and description; `extra` adds what
        only one side has (the CRD's camelCase alias, a string length, a bound)."""
        # A consumer's own bound (the CRD's integer seconds) replaces the shared one.
        options: dict[str, Any] = {"ge": self.ge, "gt": self.gt, "le": self.le, **extra}
        return Field(
            default=self.default,
            description=f"{self.description} API setting {self.env}.",
            **options,
        )


RETRIEVAL_MODE: Final = Setting[RetrievalMode](
    "RETRIEVAL_MODE",
    "hybrid",
    "Retrieval method when a query names none: hybrid (dense and BM25 fused), dense or lexical.",
)
RETRIEVAL_TOP_K: Final = Setting[int](
    "RETRIEVAL_TOP_K",
    5,
    "Sources an answer is built from when a query does not give max_results.",
    ge=1,
    le=20,
)
RETRIEVAL_THRESHOLD: Final = Setting[float](
    "RETRIEVAL_THRESHOLD",
    0.25,
    "Minimum similarity in [0, 1] of a source when a query does not give threshold; "
    "passages under it are left out rather than answered from.",
    ge=0.0,
    le=1.0,
)
RETRIEVAL_FUSION_DENSE_WEIGHT: Final = Setting[float](
    "RETRIEVAL_FUSION_DENSE_WEIGHT",
    0.5,
    "Hybrid mode: the dense side's prior share in fusion (0.5 is even); lower it for "
    "documents where keyword search is known to be much the stronger method.",
    ge=0.0,
    le=1.0,
)
CHUNK_SIZE: Final = Setting[int](
    "CHUNK_SIZE",
    256,
    "Tokens per chunk a document is split into (its title included).",
    ge=16,
    le=8192,
)
CHUNK_OVERLAP: Final = Setting[int](
    "CHUNK_OVERLAP",
    32,
    "Tokens consecutive chunks share; less than half the chunk size.",
    ge=0,
    le=4096,
)
EMBEDDINGS_PROVIDER: Final = Setting[EmbeddingsProvider](
    "EMBEDDINGS_PROVIDER",
    "local",
    "Where embeddings are computed: local (in the API process) or an OpenAI-compatible server.",
)
EMBEDDINGS_MODEL: Final = Setting[str](
    "EMBEDDINGS_MODEL",
    "all-MiniLM-L6-v2",
    "The embedding model; all-MiniLM-L6-v2 ships with the API image.",
)
LLM_TIMEOUT_SECONDS: Final = Setting[int](
    "LLM_TIMEOUT_SECONDS",
    30,
    "Bound on one call to the language model, its retries and the waits between them.",
)
JWT_EXPIRE_MINUTES: Final = Setting[int](
    "JWT_EXPIRE_MINUTES",
    30,
    "Lifetime of an access token issued by /auth/login, in minutes.",
    ge=1,
    le=7 * 24 * 60,
)
RATE_LIMIT_REQUESTS: Final = Setting[int](
    "RATE_LIMIT_REQUESTS",
    100,
    "Requests one client may make per window.",
    ge=1,
    le=1_000_000,
)
RATE_LIMIT_WINDOW: Final = Setting[int](
    "RATE_LIMIT_WINDOW",
    60,
    "Length of the rate-limit window, in seconds.",
    ge=1,
    le=86_400,
)
GUARDRAILS_ENABLED: Final = Setting[bool](
    "GUARDRAILS_ENABLED",
    True,
    "Input and output checks on queries and answers (injection, blocked patterns, low confidence).",
)

#: Every setting a RagDeployment's spec sets and the API reads with the same default.
SHARED: Final[tuple[Setting[Any], ...]] = (
    RETRIEVAL_MODE,
    RETRIEVAL_TOP_K,
    RETRIEVAL_THRESHOLD,
    RETRIEVAL_FUSION_DENSE_WEIGHT,
    CHUNK_SIZE,
    CHUNK_OVERLAP,
    EMBEDDINGS_PROVIDER,
    EMBEDDINGS_MODEL,
    LLM_TIMEOUT_SECONDS,
    JWT_EXPIRE_MINUTES,
    RATE_LIMIT_REQUESTS,
    RATE_LIMIT_WINDOW,
    GUARDRAILS_ENABLED,
)

#: The other variables the operator writes, and why the operator, not a shared default,
#: decides their value.
OPERATOR_CHOSEN: Final[dict[str, str]] = {
    "APP_NAME": "the RagDeployment's name",
    "RAGKUBE_ENV": "spec.environment; a cluster defaults to production, a local process "
    "to development",
    "CHROMA_HOST": "the RagDeployment's own Chroma Service",
    "CHROMA_PORT": "the Chroma container's port",
    "CHROMA_COLLECTION_NAME": "spec.vectorStore.chroma.collectionName; kept at its own "
    "default so existing deployments keep their data",
    "LLM_PROVIDER": "spec.llm.provider; a local process without it picks by OPENAI_API_KEY",
    "LLM_MODEL": "spec.llm.model, written only when set",
    "LLM_BASE_URL": "spec.llm.baseURL, written only when set",
    "JWT_ALGORITHM": "the operator generates HS256 keys",
    "ALLOWED_ORIGINS": "spec.api.cors.allowedOrigins (none by default on both sides)",
    "TRUSTED_PROXIES": "spec.exposure.trustedProxies, written only when set",
    "GUARDRAILS_BLOCKED_PATTERNS": "spec.guardrails.blockedPatterns (none by default on "
    "both sides)",
    "LOG_LEVEL": "spec.api.logLevel",
    "LOG_FORMAT": "JSON lines for the cluster's log collector",
    "ENABLE_METRICS": "the ServiceMonitor scrapes /metrics",
    "USERS_FILE": "where the users Secret is mounted, when spec.auth.usersSecretRef is set",
    "WEBHOOKS_FILE": "where the rendered webhooks Secret is mounted",
    "DATA_DIR": "the pod's scratch volume (the root filesystem is read-only)",
    index_server.LEXICAL_INDEX_URL_ENV: "the RagDeployment's own index server Service",
}
