"""The headless Service giving the Chroma StatefulSet's pod a stable DNS name."""

from __future__ import annotations

from typing import Any

from ragkube_contract import api_image
from ragkube_operator import labels
from ragkube_operator.models import RagDeployment


def chroma_service(rd: RagDeployment) -> dict[str, Any]:
    """The headless Service `<rd>-chroma` (clusterIP None) on `api_image.CHROMA_PORT`."""
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": labels.chroma_name(rd.name),
            "namespace": rd.namespace,
            "labels": labels.standard_labels(rd.name, labels.CHROMA),
        },
        "spec": {
            "clusterIP": "None",
            "publishNotReadyAddresses": False,
            "selector": labels.selector_labels(rd.name, labels.CHROMA),
            "ports": [
                {
                    "name": "http",
                    "port": api_image.CHROMA_PORT,
                    "targetPort": "http",
                    "protocol": "TCP",
                }
            ],
        },
    }
