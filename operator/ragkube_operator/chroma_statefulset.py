"""The Chroma StatefulSet: one server with a persistent volume claim."""

from __future__ import annotations

from typing import Any, Final

from ragkube_contract import api_image
from ragkube_operator import labels
from ragkube_operator.models import RagDeployment
from ragkube_operator.pod_security import container_security_context, pod_security_context
from ragkube_operator.volume_claims import data_claim_template

#: Where the volume claim is mounted and Chroma persists its data.
CHROMA_DATA_DIR: Final = "/data"
#: Heartbeat endpoint of the Chroma server (v2 API).
CHROMA_HEARTBEAT_PATH: Final = "/api/v2/heartbeat"


def chroma_args() -> list[str]:
    """Arguments of the Chroma container (`chroma run ...`), also used by local checks."""
    return [
        "run",
        "--path",
        CHROMA_DATA_DIR,
        "--host",
        "0.0.0.0",
        "--port",
        str(api_image.CHROMA_PORT),
    ]


def chroma_statefulset(rd: RagDeployment) -> dict[str, Any]:
    """The StatefulSet `<rd>-chroma` with a volumeClaimTemplate of the configured size.

    Chroma 1.x has no server-side token authentication; what keeps other pods out is the
    NetworkPolicy (`network_policy.py`).
    """
    chroma = rd.spec.vector_store.chroma
    probe = {
        "httpGet": {"path": CHROMA_HEARTBEAT_PATH, "port": "http"},
        "periodSeconds": 10,
        "timeoutSeconds": 3,
        "failureThreshold": 3,
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {
            "name": labels.chroma_name(rd.name),
            "namespace": rd.namespace,
            "labels": labels.standard_labels(rd.name, labels.CHROMA),
        },
        "spec": {
            "replicas": 1,
            "serviceName": labels.chroma_name(rd.name),
            "podManagementPolicy": "OrderedReady",
            "selector": {"matchLabels": labels.selector_labels(rd.name, labels.CHROMA)},
            "template": {
                "metadata": {"labels": labels.standard_labels(rd.name, labels.CHROMA)},
                "spec": {
                    "automountServiceAccountToken": False,
                    "enableServiceLinks": False,
                    "securityContext": pod_security_context(),
                    "containers": [
                        {
                            "name": "chroma",
                            "image": chroma.image,
                            "args": chroma_args(),
                            "ports": [
                                {
                                    "name": "http",
                                    "containerPort": api_image.CHROMA_PORT,
                                    "protocol": "TCP",
                                }
                            ],
                            "env": [{"name": "ANONYMIZED_TELEMETRY", "value": "False"}],
                            "resources": chroma.resources.model_dump(mode="json"),
                            "readinessProbe": probe,
                            "livenessProbe": {**probe, "failureThreshold": 6},
                            "securityContext": container_security_context(),
                            "volumeMounts": [
                                {"name": "data", "mountPath": CHROMA_DATA_DIR},
                                {"name": "tmp", "mountPath": "/tmp"},  # noqa: S108
                            ],
                        }
                    ],
                    "volumes": [{"name": "tmp", "emptyDir": {}}],
                },
            },
            "volumeClaimTemplates": [data_claim_template(rd, labels.CHROMA, chroma.storage)],
        },
    }
