"""Every child builder returns an object the Kubernetes 1.34 OpenAPI schema accepts.

Table-driven over specs that switch features on and off; the objects are validated strictly
(unknown fields rejected) with `kubernetes-validate`.
"""

from __future__ import annotations

from typing import Any

import kubernetes_validate
import pytest
from ragkube_operator.api_configmap import api_configmap
from ragkube_operator.api_deployment import api_deployment, config_checksum
from ragkube_operator.api_secret import api_secret
from ragkube_operator.api_service import api_service
from ragkube_operator.autoscaler import autoscaler
from ragkube_operator.chroma_service import chroma_service
from ragkube_operator.chroma_statefulset import chroma_statefulset
from ragkube_operator.disruption_budget import disruption_budget
from ragkube_operator.models import RagDeployment
from ragkube_operator.network_policy import network_policy
from ragkube_operator.webhook_secret import webhook_secret

from .operator_factories import KUBERNETES_VERSION, make_rd

SPECS: dict[str, dict[str, Any]] = {
    "defaults": {},
    "autoscaling": {"api": {"autoscaling": {"enabled": True, "minReplicas": 1}}},
    "user secrets": {
        "auth": {
            "jwtSecretRef": {"name": "jwt", "key": "k"},
            "usersSecretRef": {"name": "users", "key": "users.json"},
        },
        "llm": {
            "provider": "openai-compatible",
            "model": "gpt-4o-mini",
            "baseURL": "https://llm.example.com/v1",
            "apiKeySecretRef": {"name": "openai", "key": "api-key"},
        },
        "redis": {"urlSecretRef": {"name": "redis", "key": "url"}},
    },
    "storage class": {
        "vectorStore": {"chroma": {"storage": {"size": "20Gi", "storageClassName": "fast"}}}
    },
    "extra env and resources": {
        "api": {
            "env": [{"name": "FOO", "value": "bar"}],
            "resources": {"requests": {"cpu": 1, "memory": "1Gi"}, "limits": {"cpu": "2"}},
        }
    },
}


def _children(rd: RagDeployment) -> list[dict[str, Any]]:
    configmap = api_configmap(rd)
    secret = api_secret(rd, {"jwt-secret-key": "x" * 64, "chroma-auth-token": "y" * 64})
    return [
        configmap,
        secret,
        api_deployment(rd, checksum=config_checksum(configmap, secret)),
        api_service(rd),
        chroma_service(rd),
        chroma_statefulset(rd),
        autoscaler(rd),
        disruption_budget(rd),
        network_policy(rd),
        webhook_secret(rd, [], {}),
    ]


@pytest.mark.parametrize("spec", SPECS.values(), ids=SPECS.keys())
def test_every_child_validates_against_the_kubernetes_schema(spec: dict[str, Any]) -> None:
    for child in _children(make_rd(**spec)):
        kubernetes_validate.validate(child, KUBERNETES_VERSION, strict=True)


@pytest.mark.parametrize("spec", SPECS.values(), ids=SPECS.keys())
def test_every_child_carries_the_standard_labels_in_the_namespace(spec: dict[str, Any]) -> None:
    for child in _children(make_rd(**spec)):
        meta = child["metadata"]
        assert meta["namespace"] == "team-a"
        assert meta["name"].startswith("demo-")
        assert meta["labels"]["app.kubernetes.io/instance"] == "demo"
        assert meta["labels"]["app.kubernetes.io/part-of"] == "ragkube"
        assert meta["labels"]["app.kubernetes.io/managed-by"] == "ragkube-operator"


def test_builders_are_pure(rd: RagDeployment) -> None:
    assert _children(rd) == _children(rd)
