"""What an API pod needs from its environment, and what it offers on the network."""

from typing import Final

from ragkube_contract import index_server

#: Port the API container listens on (HTTP).
API_PORT: Final = 8000
#: Cheap liveness probe path: answers while the process is alive.
LIVENESS_PATH: Final = "/health"
#: Readiness probe path: 200 only when the vector store is reachable and the model is loaded.
READINESS_PATH: Final = "/ready"
#: Prometheus exposition path.
METRICS_PATH: Final = "/metrics"
#: Port of a Chroma server (client/server mode).
CHROMA_PORT: Final = 8000
#: Where the operator mounts the rendered webhook file inside API pods.
WEBHOOKS_MOUNT_DIR: Final = "/etc/ragkube/webhooks"
WEBHOOKS_FILE_NAME: Final = "webhooks.json"
#: Where the operator mounts the users file (bcrypt hashes) inside API pods.
USERS_MOUNT_DIR: Final = "/etc/ragkube/users"
USERS_FILE_NAME: Final = "users.json"

#: Settings the operator writes into the API ConfigMap (non-secret).
CONFIG_ENV: Final = (
    "APP_NAME",
    "RAGKUBE_ENV",  # development | production
    "CHROMA_HOST",
    "CHROMA_PORT",
    "CHROMA_COLLECTION_NAME",
    "EMBEDDINGS_PROVIDER",  # local | openai-compatible
    "EMBEDDINGS_MODEL",
    "LLM_PROVIDER",  # extractive | openai-compatible
    "LLM_MODEL",
    "LLM_BASE_URL",
    "LLM_TIMEOUT_SECONDS",
    "RETRIEVAL_MODE",  # hybrid | dense | lexical
    "RETRIEVAL_TOP_K",
    "RETRIEVAL_THRESHOLD",
    "RETRIEVAL_FUSION_DENSE_WEIGHT",  # 0..1, the dense side's prior share in hybrid mode
    "CHUNK_SIZE",
    "CHUNK_OVERLAP",
    "JWT_ALGORITHM",
    "JWT_EXPIRE_MINUTES",
    "ALLOWED_ORIGINS",  # comma-separated
    "RATE_LIMIT_REQUESTS",
    "RATE_LIMIT_WINDOW",
    "TRUSTED_PROXIES",  # comma-separated addresses or CIDR blocks (spec.exposure)
    "GUARDRAILS_ENABLED",
    "GUARDRAILS_BLOCKED_PATTERNS",  # JSON list of regular expressions
    "LOG_LEVEL",
    "LOG_FORMAT",  # json | console
    "ENABLE_METRICS",
    "USERS_FILE",
    "WEBHOOKS_FILE",
    "DATA_DIR",
    index_server.LEXICAL_INDEX_URL_ENV,  # the storage tier's index server
)

#: Settings the operator passes from Secrets (never from the ConfigMap).
SECRET_ENV: Final = (
    "JWT_SECRET_KEY",
    "CHROMA_AUTH_TOKEN",
    "OPENAI_API_KEY",
    "REDIS_URL",
    index_server.LEXICAL_INDEX_TOKEN_ENV,
)

#: Prometheus series the API exposes and the operator's alert rules query.
#: Requests answered; labels ``method``, ``endpoint`` (the route template), ``status``.
REQUESTS_METRIC: Final = "rag_requests_total"
#: Request latency histogram (``_bucket``/``_sum``/``_count``); labels ``method``, ``endpoint``.
REQUEST_DURATION_METRIC: Final = "rag_request_duration_seconds"
#: Webhook delivery attempts; labels ``event``, ``outcome``.
WEBHOOK_DELIVERIES_METRIC: Final = "rag_webhook_deliveries_total"
#: The ``outcome`` of a delivery given up after its retry budget.
WEBHOOK_DROPPED_OUTCOME: Final = "dropped"
