"""The ConfigMap holding the API's non-secret settings (`ragkube_contract.api_image`)."""

from __future__ import annotations

import json
from typing import Any

from ragkube_contract import api_image, index_server
from ragkube_operator import labels
from ragkube_operator.models import RagDeployment

#: Where the API pod keeps its scratch data (an emptyDir; the root filesystem is read-only).
DATA_DIR = "/data"


def chroma_host(rd: RagDeployment) -> str:
    """In-cluster DNS name of the RagDeployment's Chroma (its headless Service)."""
    return f"{labels.chroma_name(rd.name)}.{rd.namespace}.svc"


def index_url(rd: RagDeployment) -> str:
    """In-cluster URL of the RagDeployment's lexical index server (its headless Service)."""
    return f"http://{labels.index_name(rd.name)}.{rd.namespace}.svc:{index_server.INDEX_PORT}"


def api_settings(rd: RagDeployment) -> dict[str, str]:
    """Environment of the API container, as the names in `api_image.CONFIG_ENV`.

    Optional settings that are not configured are left out rather than set empty, so the
    API's own defaults apply.
    """
    spec = rd.spec
    settings = {
        "APP_NAME": rd.name,
        "RAGKUBE_ENV": spec.environment,
        "CHROMA_HOST": chroma_host(rd),
        "CHROMA_PORT": str(api_image.CHROMA_PORT),
        "CHROMA_COLLECTION_NAME": spec.vector_store.chroma.collection_name,
        "EMBEDDINGS_PROVIDER": spec.embeddings.provider,
        "EMBEDDINGS_MODEL": spec.embeddings.model,
        "LLM_PROVIDER": spec.llm.provider,
        "LLM_TIMEOUT_SECONDS": str(spec.llm.timeout_seconds),
        "RETRIEVAL_MODE": spec.retrieval.mode,
        "RETRIEVAL_TOP_K": str(spec.retrieval.top_k),
        "RETRIEVAL_THRESHOLD": str(spec.retrieval.threshold),
        "RETRIEVAL_FUSION_DENSE_WEIGHT": str(spec.retrieval.fusion_dense_weight),
        "CHUNK_SIZE": str(spec.retrieval.chunk_size),
        "CHUNK_OVERLAP": str(spec.retrieval.chunk_overlap),
        "JWT_ALGORITHM": "HS256",
        "JWT_EXPIRE_MINUTES": str(spec.auth.token_ttl_minutes),
        "ALLOWED_ORIGINS": ",".join(spec.api.cors.allowed_origins),
        "RATE_LIMIT_REQUESTS": str(spec.rate_limit.requests),
        "RATE_LIMIT_WINDOW": str(spec.rate_limit.window_seconds),
        "GUARDRAILS_ENABLED": str(spec.guardrails.enabled).lower(),
        "GUARDRAILS_BLOCKED_PATTERNS": json.dumps(list(spec.guardrails.blocked_patterns)),
        "LOG_LEVEL": spec.api.log_level,
        "LOG_FORMAT": "json",
        "ENABLE_METRICS": "true",
        "WEBHOOKS_FILE": f"{api_image.WEBHOOKS_MOUNT_DIR}/{api_image.WEBHOOKS_FILE_NAME}",
        "DATA_DIR": DATA_DIR,
        index_server.LEXICAL_INDEX_URL_ENV: index_url(rd),
    }
    if spec.llm.model:
        settings["LLM_MODEL"] = spec.llm.model
    if spec.llm.base_url:
        settings["LLM_BASE_URL"] = spec.llm.base_url
    if spec.exposure.trusted_proxies:
        settings["TRUSTED_PROXIES"] = ",".join(spec.exposure.trusted_proxies)
    if spec.auth.users_secret_ref is not None:
        settings["USERS_FILE"] = f"{api_image.USERS_MOUNT_DIR}/{api_image.USERS_FILE_NAME}"
    return settings


def api_configmap(rd: RagDeployment) -> dict[str, Any]:
    """The ConfigMap `<rd>-api-config`, loaded into the API container with envFrom."""
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": labels.api_config_name(rd.name),
            "namespace": rd.namespace,
            "labels": labels.standard_labels(rd.name, labels.API),
        },
        "data": api_settings(rd),
    }
