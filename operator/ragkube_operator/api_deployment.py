"""The API Deployment: the API image with its settings, secrets, probes and mounts."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any, Final

from ragkube_contract import api_image, index_server
from ragkube_operator import labels
from ragkube_operator.api_configmap import DATA_DIR
from ragkube_operator.api_secret import CHROMA_TOKEN_KEY, INDEX_TOKEN_KEY, JWT_KEY
from ragkube_operator.models import RagDeployment, SecretKeyRef
from ragkube_operator.pod_security import container_security_context, restricted_pod_spec
from ragkube_operator.redis_config import REDIS_URL_KEY

#: Annotation on the pod template whose change rolls the pods when settings change.
CONFIG_CHECKSUM_ANNOTATION: Final = "ragkube.dev/config-checksum"
CONTAINER_NAME: Final = "api"


def config_checksum(configmap: Mapping[str, Any], secret: Mapping[str, Any]) -> str:
    """SHA-256 over the settings the pods read at start-up (ConfigMap and generated Secret).

    The webhooks Secret is left out on purpose: the API hot-reloads it without a restart.
    """
    payload = json.dumps(
        {"config": configmap.get("data", {}), "secret": secret.get("data", {})},
        sort_keys=True,
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def _secret_env(name: str, ref: SecretKeyRef) -> dict[str, Any]:
    return {"name": name, "valueFrom": {"secretKeyRef": {"name": ref.name, "key": ref.key}}}


def secret_env(rd: RagDeployment) -> list[dict[str, Any]]:
    """Environment variables read from Secrets (names from `api_image.SECRET_ENV`)."""
    generated = labels.api_secret_name(rd.name)
    auth = rd.spec.auth
    jwt_ref = auth.jwt_secret_ref or SecretKeyRef(name=generated, key=JWT_KEY)
    env = [
        _secret_env("JWT_SECRET_KEY", jwt_ref),
        _secret_env("CHROMA_AUTH_TOKEN", SecretKeyRef(name=generated, key=CHROMA_TOKEN_KEY)),
        _secret_env(
            index_server.LEXICAL_INDEX_TOKEN_ENV,
            SecretKeyRef(name=generated, key=INDEX_TOKEN_KEY),
        ),
    ]
    if rd.spec.llm.api_key_secret_ref is not None:
        env.append(_secret_env("OPENAI_API_KEY", rd.spec.llm.api_key_secret_ref))
    if rd.spec.redis.managed:
        env.append(_secret_env("REDIS_URL", SecretKeyRef(name=generated, key=REDIS_URL_KEY)))
    elif rd.spec.redis.url_secret_ref is not None:
        env.append(_secret_env("REDIS_URL", rd.spec.redis.url_secret_ref))
    return env


def _probe(path: str, *, period: int, failures: int) -> dict[str, Any]:
    return {
        "httpGet": {"path": path, "port": "http"},
        "periodSeconds": period,
        "timeoutSeconds": 3,
        "failureThreshold": failures,
    }


def _volumes(rd: RagDeployment) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    volumes: list[dict[str, Any]] = [
        {"name": "tmp", "emptyDir": {}},
        {"name": "data", "emptyDir": {}},
        {
            # Optional, so pods start before any Webhook exists; mounted as a directory
            # (not subPath) so the kubelet updates the file in place and the API reloads it.
            "name": "webhooks",
            "secret": {"secretName": labels.webhooks_secret_name(rd.name), "optional": True},
        },
    ]
    mounts: list[dict[str, Any]] = [
        {"name": "tmp", "mountPath": "/tmp"},  # noqa: S108  (an emptyDir of its own)
        {"name": "data", "mountPath": DATA_DIR},
        {"name": "webhooks", "mountPath": api_image.WEBHOOKS_MOUNT_DIR, "readOnly": True},
    ]
    users = rd.spec.auth.users_secret_ref
    if users is not None:
        volumes.append(
            {
                "name": "users",
                "secret": {
                    "secretName": users.name,
                    "items": [{"key": users.key, "path": api_image.USERS_FILE_NAME}],
                },
            }
        )
        mounts.append({"name": "users", "mountPath": api_image.USERS_MOUNT_DIR, "readOnly": True})
    return volumes, mounts


def api_deployment(rd: RagDeployment, *, checksum: str) -> dict[str, Any]:
    """The Deployment `<rd>-api`; `checksum` is `config_checksum` of its ConfigMap and Secret.

    With autoscaling on, `replicas` is left out so that the HPA alone owns it.
    """
    api = rd.spec.api
    volumes, mounts = _volumes(rd)
    container = {
        "name": CONTAINER_NAME,
        "image": api.image,
        "imagePullPolicy": api.image_pull_policy,
        "ports": [{"name": "http", "containerPort": api_image.API_PORT, "protocol": "TCP"}],
        "envFrom": [{"configMapRef": {"name": labels.api_config_name(rd.name)}}],
        "env": [*secret_env(rd), *({"name": e.name, "value": e.value} for e in api.env)],
        "resources": api.resources.model_dump(mode="json"),
        "startupProbe": _probe(api_image.LIVENESS_PATH, period=5, failures=60),
        "livenessProbe": _probe(api_image.LIVENESS_PATH, period=10, failures=3),
        "readinessProbe": _probe(api_image.READINESS_PATH, period=5, failures=3),
        "securityContext": container_security_context(),
        "volumeMounts": mounts,
    }
    spec: dict[str, Any] = {
        "selector": {"matchLabels": labels.selector_labels(rd.name, labels.API)},
        "strategy": {
            "type": "RollingUpdate",
            "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1},
        },
        "template": {
            "metadata": {
                "labels": labels.standard_labels(rd.name, labels.API),
                "annotations": {CONFIG_CHECKSUM_ANNOTATION: checksum},
            },
            "spec": restricted_pod_spec([container], volumes),
        },
    }
    if not api.autoscaling.enabled:
        spec = {"replicas": api.replicas, **spec}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": labels.api_name(rd.name),
            "namespace": rd.namespace,
            "labels": labels.standard_labels(rd.name, labels.API),
        },
        "spec": spec,
    }
