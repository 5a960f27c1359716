"""The managed Redis StatefulSet: one Redis with its append-only file on a volume claim."""

from __future__ import annotations

from typing import Any, Final

from ragkube_operator import labels
from ragkube_operator.api_deployment import CONFIG_CHECKSUM_ANNOTATION
from ragkube_operator.models import RagDeployment
from ragkube_operator.pod_security import container_security_context, restricted_pod_spec
from ragkube_operator.redis_config import (
    ACL_DIR,
    ACL_FILE,
    CONFIG_DIR,
    CONFIG_FILE,
    DATA_DIR,
    REDIS_ACL_KEY,
    REDIS_PASSWORD_KEY,
    REDIS_PORT,
)
from ragkube_operator.volume_claims import data_claim_template

CONTAINER_NAME: Final = "redis"


def redis_command() -> list[str]:
    """The container's command: redis-server reading the mounted redis.conf."""
    return ["redis-server", f"{CONFIG_DIR}/{CONFIG_FILE}"]


def readiness_command() -> list[str]:
    """Ready when Redis answers PING with PONG (not while it loads its append-only file).

    redis-cli reads the password from REDISCLI_AUTH, so it never appears in the arguments.
    """
    return ["sh", "-c", f'test "$(redis-cli -p {REDIS_PORT} ping)" = PONG']


def redis_statefulset(rd: RagDeployment, *, checksum: str) -> dict[str, Any]:
    """The StatefulSet `<rd>-redis`; `checksum` rolls its pod when redis.conf or the ACL
    changes (Redis reads both only at start-up).
    """
    redis = rd.spec.redis
    secret = labels.api_secret_name(rd.name)
    container = {
        "name": CONTAINER_NAME,
        "image": redis.image,
        "command": redis_command(),
        "ports": [{"name": "redis", "containerPort": REDIS_PORT, "protocol": "TCP"}],
        "env": [
            {
                "name": "REDISCLI_AUTH",
                "valueFrom": {"secretKeyRef": {"name": secret, "key": REDIS_PASSWORD_KEY}},
            }
        ],
        "resources": redis.resources.model_dump(mode="json"),
        "readinessProbe": {
            "exec": {"command": readiness_command()},
            "periodSeconds": 5,
            "timeoutSeconds": 3,
            "failureThreshold": 3,
        },
        # A Redis still loading a large append-only file is alive, only not ready yet.
        "livenessProbe": {
            "tcpSocket": {"port": "redis"},
            "initialDelaySeconds": 10,
            "periodSeconds": 10,
            "timeoutSeconds": 3,
            "failureThreshold": 6,
        },
        # Redis writes only under `dir` (the claim), so the root filesystem stays read-only.
        "securityContext": container_security_context(),
        "volumeMounts": [
            {"name": "data", "mountPath": DATA_DIR},
            {"name": "config", "mountPath": CONFIG_DIR, "readOnly": True},
            {"name": "acl", "mountPath": ACL_DIR, "readOnly": True},
        ],
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {
            "name": labels.redis_name(rd.name),
            "namespace": rd.namespace,
            "labels": labels.standard_labels(rd.name, labels.REDIS),
        },
        "spec": {
            "replicas": 1,
            "serviceName": labels.redis_name(rd.name),
            "podManagementPolicy": "OrderedReady",
            "selector": {"matchLabels": labels.selector_labels(rd.name, labels.REDIS)},
            "template": {
                "metadata": {
                    "labels": labels.standard_labels(rd.name, labels.REDIS),
                    "annotations": {CONFIG_CHECKSUM_ANNOTATION: checksum},
                },
                "spec": restricted_pod_spec(
                    [container],
                    [
                        {
                            "name": "config",
                            "configMap": {"name": labels.redis_config_name(rd.name)},
                        },
                        {
                            "name": "acl",
                            "secret": {
                                "secretName": secret,
                                "items": [{"key": REDIS_ACL_KEY, "path": ACL_FILE}],
                            },
                        },
                    ],
                ),
            },
            "volumeClaimTemplates": [data_claim_template(rd, labels.REDIS, redis.storage)],
        },
    }
