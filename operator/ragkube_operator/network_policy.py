"""NetworkPolicies that let only this RagDeployment's API pods reach its storage tier
(Chroma, the lexical index server) and its managed Redis."""

from __future__ import annotations

from typing import Any

from ragkube_contract import api_image, index_server
from ragkube_operator import labels
from ragkube_operator.models import RagDeployment
from ragkube_operator.redis_config import REDIS_PORT


def _only_from_api_pods(rd: RagDeployment, component: str, name: str, port: int) -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {
            "name": name,
            "namespace": rd.namespace,
            "labels": labels.standard_labels(rd.name, component),
        },
        "spec": {
            "podSelector": {"matchLabels": labels.selector_labels(rd.name, component)},
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
                    "ports": [{"protocol": "TCP", "port": port}],
                }
            ],
        },
    }


def network_policy(rd: RagDeployment) -> dict[str, Any]:
    """The NetworkPolicy `<rd>-chroma`: ingress to Chroma pods only from the API pods."""
    return _only_from_api_pods(
        rd, labels.CHROMA, labels.chroma_name(rd.name), api_image.CHROMA_PORT
    )


def redis_network_policy(rd: RagDeployment) -> dict[str, Any]:
    """The NetworkPolicy `<rd>-redis`: ingress to the managed Redis only from the API pods."""
    return _only_from_api_pods(rd, labels.REDIS, labels.redis_name(rd.name), REDIS_PORT)


def index_network_policy(rd: RagDeployment) -> dict[str, Any]:
    """The NetworkPolicy `<rd>-index`: ingress to the lexical index server only from the API
    pods (the bearer token is the second lock, not the only one)."""
    return _only_from_api_pods(
        rd, labels.LEXICAL_INDEX, labels.index_name(rd.name), index_server.INDEX_PORT
    )
