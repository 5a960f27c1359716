"""Webhook resources: validated, rendered into the API pods' Secret, removed on deletion."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
import yaml

from ragkube_contract import api_image

from .operator_e2e import Kube, condition, eventually, rag_deployment

pytestmark = pytest.mark.e2e


def hook(name: str, url: str = "https://hooks.example.com/x", **extra: Any) -> dict[str, Any]:
    return {
        "apiVersion": "ragkube.dev/v1alpha1",
        "kind": "Webhook",
        "metadata": {"name": name},
        "spec": {
            "ragDeploymentRef": {"name": "wh"},
            "url": url,
            "events": ["query.completed", "document.ingested"],
            "secretRef": {"name": "wh-key", "key": "hmac"},
            **extra,
        },
    }


def rendered(kube: Kube, namespace: str) -> list[dict[str, Any]]:
    secret = kube.get("secret", "wh-webhooks", namespace) or {"data": {}}
    encoded = secret["data"].get(api_image.WEBHOOKS_FILE_NAME)
    return json.loads(base64.b64decode(encoded))["webhooks"] if encoded else []


def test_webhook_lifecycle(kube: Kube, namespace: str) -> None:
    kube.kubectl(
        "create", "secret", "generic", "wh-key", "--from-literal=hmac=s3cr3t", "-n", namespace
    )
    kube.apply(namespace, rag_deployment("wh", api={"replicas": 1}))
    kube.apply(namespace, hook("alerts"))
    accepted = eventually(
        lambda: (
            (c := condition(kube.get("webhook", "alerts", namespace), "Accepted"))
            and c["status"] == "True"
            and c
        ),
        timeout=60,
        what="alerts Accepted",
    )
    assert accepted["reason"] == "Accepted"
    entries = eventually(lambda: rendered(kube, namespace), timeout=30, what="a rendered entry")
    assert entries == [
        {
            "name": f"{namespace}/alerts",
            "url": "https://hooks.example.com/x",
            "events": ["document.ingested", "query.completed"],
            "secret": "s3cr3t",
        }
    ]
    deployment = kube.get("deployment", "wh-api", namespace)
    assert deployment is not None
    volumes = deployment["spec"]["template"]["spec"]["volumes"]
    assert {
        "name": "webhooks",
        "secret": {"secretName": "wh-webhooks", "optional": True, "defaultMode": 420},
    } in volumes

    kube.apply(namespace, hook("second", url="https://second.example.com/y"))
    eventually(lambda: len(rendered(kube, namespace)) == 2, timeout=30, what="two entries")
    kube.kubectl("delete", "webhook", "alerts", "-n", namespace, "--timeout=30s")
    assert eventually(
        lambda: [e["name"] for e in rendered(kube, namespace)] == [f"{namespace}/second"],
        timeout=30,
        what="alerts removed from the rendered file",
    )


def test_insecure_or_unknown_webhooks_are_refused(kube: Kube, namespace: str) -> None:
    error = kube.kubectl(
        "apply",
        "-n",
        namespace,
        "-f",
        "-",
        stdin=yaml.safe_dump(hook("plain", url="http://x.example.com/h")),
        check=False,
    )
    assert "url must use https://" in error
    bad_event = hook("odd")
    bad_event["spec"]["events"] = ["query.exploded"]
    error = kube.kubectl(
        "apply", "-n", namespace, "-f", "-", stdin=yaml.safe_dump(bad_event), check=False
    )
    assert 'Unsupported value: "query.exploded"' in error
    kube.apply(namespace, hook("insecure", url="http://x.example.com/h", allowInsecureHttp=True))
    missing = eventually(
        lambda: condition(kube.get("webhook", "insecure", namespace), "Accepted"),
        timeout=30,
        what="an Accepted condition",
    )
    assert (missing["status"], missing["reason"]) == ("False", "SecretNotFound")
