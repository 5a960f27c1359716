"""The Chroma StatefulSet: one server with a persistent volume claim."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any, Final

from kubernetes.utils import parse_quantity

from ragkube_contract import api_image
from ragkube_operator import labels
from ragkube_operator.models import RagDeployment
from ragkube_operator.pod_security import container_security_context, pod_security_context

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
    claim_spec: dict[str, Any] = {
        "accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": chroma.storage.size}},
    }
    if chroma.storage.storage_class_name:
        claim_spec["storageClassName"] = chroma.storage.storage_class_name
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
            "volumeClaimTemplates": [
                {
                    "metadata": {
                        "name": "data",
                        "labels": labels.standard_labels(rd.name, labels.CHROMA),
                    },
                    "spec": claim_spec,
                }
            ],
        },
    }


def _claim_spec(statefulset: Mapping[str, Any]) -> Mapping[str, Any]:
    templates = (statefulset.get("spec") or {}).get("volumeClaimTemplates") or [{}]
    spec: Mapping[str, Any] = templates[0].get("spec") or {}
    return spec


def _size(claim: Mapping[str, Any]) -> str | None:
    size = ((claim.get("resources") or {}).get("requests") or {}).get("storage")
    return None if size is None else str(size)


def _same_size(first: str | None, second: str | None) -> bool:
    if first is None or second is None:
        return first == second
    try:
        return bool(parse_quantity(first) == parse_quantity(second))
    except ValueError:
        return first == second


def data_claim_name(rd: RagDeployment) -> str:
    """Name of the PersistentVolumeClaim holding the data of Chroma's only pod."""
    return f"data-{labels.chroma_name(rd.name)}-0"


def keep_live_claim(
    rd: RagDeployment, desired: dict[str, Any], live: Mapping[str, Any] | None
) -> tuple[dict[str, Any], str | None]:
    """The StatefulSet to apply, given the one in the cluster, and a problem if any.

    Kubernetes refuses every change to a StatefulSet's volume claim templates, so applying
    a new storage size or class would fail the whole apply. When the spec asks for one,
    the live template is kept (the rest of the StatefulSet still follows the spec) and the
    returned sentence tells the user what to do instead. Sizes are compared as quantities:
    `1024Mi` and `1Gi` are the same size.
    """
    if live is None:
        return desired, None
    wanted, current = _claim_spec(desired), _claim_spec(live)
    same_size = _same_size(_size(wanted), _size(current))
    same_class = wanted.get("storageClassName") == current.get("storageClassName")
    if same_size and same_class:
        return desired, None
    kept = copy.deepcopy(desired)
    claim = kept["spec"]["volumeClaimTemplates"][0]["spec"]
    claim["resources"]["requests"]["storage"] = _size(current) or _size(wanted)
    claim.pop("storageClassName", None)
    if current.get("storageClassName") is not None:
        claim["storageClassName"] = current["storageClassName"]
    default = "(the cluster default)"
    storage = rd.spec.vector_store.chroma.storage
    asked = [] if same_size else [f"size {storage.size}"]
    if not same_class:
        asked.append(f"storageClassName {storage.storage_class_name or default}")
    had = f"size {_size(current)} and storageClassName {current.get('storageClassName') or default}"
    claim_name = data_claim_name(rd)
    problem = (
        f"spec.vectorStore.chroma.storage asks for {' and '.join(asked)}, but the volume "
        f"claim template of StatefulSet {rd.namespace}/{labels.chroma_name(rd.name)} holds "
        f"{had}, and Kubernetes "
        "does not allow changing it; everything else is applied and the data volume is kept "
        f"as it is. To grow the volume, expand PersistentVolumeClaim {claim_name} (its "
        "StorageClass must allow volume expansion) and then delete the StatefulSet with "
        "--cascade=orphan so that it is re-created with the new template; or set "
        "spec.vectorStore.chroma.storage back."
    )
    return kept, problem
