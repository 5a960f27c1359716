"""The lexical index server's StatefulSet: `python -m ragkube_index` with its index on a claim.

Its own StatefulSet rather than a second container in the Chroma pod: the two stores then
have their own volume, resources, probes and readiness (a slow Chroma start does not hold
back BM25, and either can be resized or restarted alone), and the NetworkPolicy and Service
of each select exactly one server.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from ragkube_contract import index_server
from ragkube_operator import labels
from ragkube_operator.api_deployment import CONFIG_CHECKSUM_ANNOTATION, config_checksum
from ragkube_operator.api_secret import INDEX_TOKEN_KEY
from ragkube_operator.models import RagDeployment
from ragkube_operator.pod_security import container_security_context, restricted_pod_spec
from ragkube_operator.volume_claims import data_claim_template

CONTAINER_NAME: Final = "index"
#: Where the volume claim is mounted and the server keeps one index directory per collection.
INDEX_DATA_DIR: Final = "/data"


def index_command() -> list[str]:
    """The container's command; the API image holds the `ragkube_index` package."""
    return ["python", "-m", "ragkube_index"]


def _probe(path: str, *, failures: int) -> dict[str, Any]:
    return {
        "httpGet": {"path": path, "port": "http"},
        "periodSeconds": 10,
        "timeoutSeconds": 3,
        "failureThreshold": failures,
    }


def token_checksum(secret: Mapping[str, Any]) -> str:
    """A checksum of the index token alone in the generated Secret `secret`: the server reads
    the token at start-up, so a rotated token must roll its pod (as it rolls the API pods),
    while a rotated JWT key need not."""
    token = (secret.get("data") or {}).get(INDEX_TOKEN_KEY)
    return config_checksum({}, {"data": {INDEX_TOKEN_KEY: token}})


def index_statefulset(rd: RagDeployment, *, checksum: str) -> dict[str, Any]:
    """The StatefulSet `<rd>-index`: one index server, reachable with the generated token;
    `checksum` is `token_checksum` of the generated Secret."""
    spec = rd.spec.vector_store.lexical_index
    name = labels.index_name(rd.name)
    container = {
        "name": CONTAINER_NAME,
        "image": rd.spec.api.image,
        "imagePullPolicy": rd.spec.api.image_pull_policy,
        "command": index_command(),
        "ports": [{"name": "http", "containerPort": index_server.INDEX_PORT, "protocol": "TCP"}],
        "env": [
            {"name": "RAGKUBE_ENV", "value": rd.spec.environment},
            {"name": index_server.INDEX_DATA_DIR_ENV, "value": INDEX_DATA_DIR},
            {"name": index_server.INDEX_HOST_ENV, "value": "0.0.0.0"},
            {"name": index_server.INDEX_PORT_ENV, "value": str(index_server.INDEX_PORT)},
            {
                "name": index_server.INDEX_AUTH_TOKEN_ENV,
                "valueFrom": {
                    "secretKeyRef": {
                        "name": labels.api_secret_name(rd.name),
                        "key": INDEX_TOKEN_KEY,
                    }
                },
            },
        ],
        "resources": spec.resources.model_dump(mode="json"),
        "readinessProbe": _probe(index_server.INDEX_READINESS_PATH, failures=3),
        "livenessProbe": _probe(index_server.INDEX_LIVENESS_PATH, failures=6),
        # The server writes only under INDEX_DATA_DIR (the claim) and /tmp (an emptyDir).
        "securityContext": container_security_context(),
        "volumeMounts": [
            {"name": "data", "mountPath": INDEX_DATA_DIR},
            {"name": "tmp", "mountPath": "/tmp"},  # noqa: S108  (an emptyDir of its own)
        ],
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {
            "name": name,
            "namespace": rd.namespace,
            "labels": labels.standard_labels(rd.name, labels.LEXICAL_INDEX),
        },
        "spec": {
            "replicas": 1,
            "serviceName": name,
            "podManagementPolicy": "OrderedReady",
            "selector": {"matchLabels": labels.selector_labels(rd.name, labels.LEXICAL_INDEX)},
            "template": {
                "metadata": {
                    "labels": labels.standard_labels(rd.name, labels.LEXICAL_INDEX),
                    "annotations": {CONFIG_CHECKSUM_ANNOTATION: checksum},
                },
                "spec": restricted_pod_spec([container], [{"name": "tmp", "emptyDir": {}}]),
            },
            "volumeClaimTemplates": [data_claim_template(rd, labels.LEXICAL_INDEX, spec.storage)],
        },
    }
