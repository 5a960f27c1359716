"""Features switched off are deleted; monitoring depends on the Prometheus Operator CRDs."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from ragkube_operator import kinds
from ragkube_operator.children import plan
from ragkube_operator.models import Webhook, WebhookSpec
from ragkube_operator.webhook_secret import webhook_secret

from ragkube_contract import api_image

from .operator_factories import make_rd

VALUES = {"jwt-secret-key": "j", "chroma-auth-token": "t"}


def _kinds(spec: dict[str, Any], served: bool) -> tuple[set[str], set[str]]:
    monitoring = {kinds.SERVICE_MONITOR, kinds.PROMETHEUS_RULE}
    result = plan(
        make_rd(**spec),
        secret_values=VALUES,
        webhooks=[],
        hmac_keys={},
        served=frozenset(k for k in kinds.OPTIONAL_APIS if served or k not in monitoring),
    )
    return {o["kind"] for o in result.apply}, {r.kind for r in result.delete}


ALWAYS = {"ConfigMap", "Secret", "Deployment", "Service", "StatefulSet"}
#: Kinds of the children that are off by default: routes, and the managed Redis's objects.
OFF_BY_DEFAULT = {"Ingress", "HTTPRoute", "ConfigMap", "StatefulSet", "Service", "NetworkPolicy"}


@pytest.mark.parametrize(
    ("spec", "served", "applied", "deleted"),
    [
        (
            {},
            True,
            ALWAYS | {"PodDisruptionBudget", "NetworkPolicy"},
            {"HorizontalPodAutoscaler", "ServiceMonitor", "PrometheusRule"} | OFF_BY_DEFAULT,
        ),
        (
            {
                "api": {"autoscaling": {"enabled": True}},
                "monitoring": {
                    "serviceMonitor": {"enabled": True},
                    "prometheusRule": {"enabled": True},
                },
                "disruptionBudget": {"enabled": False},
                "networkPolicy": {"enabled": False},
            },
            True,
            ALWAYS | {"HorizontalPodAutoscaler", "ServiceMonitor", "PrometheusRule"},
            {"PodDisruptionBudget", "NetworkPolicy"} | OFF_BY_DEFAULT,
        ),
        (
            {"monitoring": {"serviceMonitor": {"enabled": True}}},
            False,
            ALWAYS | {"PodDisruptionBudget", "NetworkPolicy"},
            {"HorizontalPodAutoscaler"} | OFF_BY_DEFAULT,
        ),
    ],
    ids=["defaults", "all optional features flipped", "monitoring CRDs missing"],
)
def test_plan_applies_enabled_and_deletes_disabled_children(
    spec: dict[str, Any], served: bool, applied: set[str], deleted: set[str]
) -> None:
    assert _kinds(spec, served) == (applied, deleted)


def _hook(name: str, url: str, rd: str = "demo") -> Webhook:
    return Webhook(
        name=name,
        namespace="team-a",
        spec=WebhookSpec.model_validate(
            {
                "ragDeploymentRef": {"name": rd},
                "url": url,
                "events": ["query.completed", "document.ingested"],
                "secretRef": {"name": f"{name}-key", "key": "hmac"},
            }
        ),
    )


def test_webhooks_file_lists_hooks_with_keys_sorted_by_name() -> None:
    hooks = [_hook("b", "https://b.example.com/h"), _hook("a", "https://a.example.com/h")]
    secret = webhook_secret(make_rd(), hooks, {"a": "key-a", "b": "key-b"})
    document = json.loads(base64.b64decode(secret["data"][api_image.WEBHOOKS_FILE_NAME]))
    assert [h["name"] for h in document["webhooks"]] == ["team-a/a", "team-a/b"]
    assert document["webhooks"][0] == {
        "name": "team-a/a",
        "url": "https://a.example.com/h",
        "events": ["document.ingested", "query.completed"],
        "secret": "key-a",
    }


def test_webhook_without_its_key_is_left_out() -> None:
    secret = webhook_secret(make_rd(), [_hook("a", "https://a.example.com/h")], {})
    document = json.loads(base64.b64decode(secret["data"][api_image.WEBHOOKS_FILE_NAME]))
    assert document == {"webhooks": []}
