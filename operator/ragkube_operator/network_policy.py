"""The NetworkPolicy that lets only this RagDeployment's API pods reach its Chroma."""

from __future__ import annotations

from typing import Any

from ragkube_contract import api_image
from ragkube_operator import labels
from ragkube_operator.models import RagDeployment


def network_policy(rd: RagDeployment) -> dict[str, Any]:
    """The NetworkPolicy `<rd>-chroma`: ingress to Chroma pods only from the API pods."""
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {
            "name": labels.chroma_name(rd.name),
            "namespace": rd.namespace,
            "labels": labels.standard_labels(rd.name, labels.CHROMA),
        },
        "spec": {
            "podSelector": {"matchLabels": labels.selector_labels(rd.name, labels.CHROMA)},
            "policyTypes": ["Ingress"],
            "ingress": [
                {
                    "from": [
                        {
                            "podSelector": {
                                "matchLabels": labels.selector_labels(rd.name, labels.API)
                            }
                        }
                    ],
                    "ports": [{"protocol": "TCP", "port": api_image.CHROMA_PORT}],
                }
            ],
        },
    }
