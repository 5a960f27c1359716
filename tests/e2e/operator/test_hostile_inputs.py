"""Bad input to the operator ends in a condition and a Warning event, never in lost data.

Each test arranges one hostile situation on the real API server (an object squatting on a
child's name, a signing key that is not text, an env var the operator sets itself, a change
Kubernetes forbids on a StatefulSet, a Webhook whose RagDeployment is missing) and asserts
what a platform engineer would see: the condition, the event, and the objects left intact.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
import yaml

from .operator_e2e import Kube, condition, eventually, rag_deployment

pytestmark = pytest.mark.e2e


def reconciled(kube: Kube, namespace: str, name: str) -> dict[str, Any] | None:
    """The Reconciled condition of a RagDeployment once it has one."""
    return condition(kube.get("ragdeployment", name, namespace), "Reconciled")


def reconciled_with(kube: Kube, namespace: str, name: str, status: str) -> dict[str, Any]:
    """Wait until the RagDeployment's Reconciled condition has `status`; return it."""
    return eventually(
        lambda: (c := reconciled(kube, namespace, name)) and c["status"] == status and c,
        timeout=60,
        what=f"{name} Reconciled={status}",
    )


def warnings(kube: Kube, namespace: str, name: str, reason: str) -> list[dict[str, Any]]:
    """Warning events about an object with a reason."""
    return [
        e
        for e in kube.items("events", namespace)
        if e["involvedObject"]["name"] == name and e["reason"] == reason and e["type"] == "Warning"
    ]


def warned(kube: Kube, namespace: str, name: str, reason: str) -> None:
    """Wait for a Warning event with `reason` about the object."""
    eventually(
        lambda: warnings(kube, namespace, name, reason),
        timeout=30,
        what=f"a {reason} Warning event about {name}",
    )


def test_object_with_a_child_name_is_neither_taken_over_nor_deleted(
    kube: Kube, namespace: str
) -> None:
    kube.kubectl(
        "create", "secret", "generic", "taken-secrets", "--from-literal=mine=precious",
        "-n", namespace,
    )  # fmt: skip
    kube.apply(namespace, rag_deployment("taken", api={"replicas": 1}))

    refused = reconciled_with(kube, namespace, "taken", "False")
    assert refused["reason"] == "OwnershipConflict"
    assert "Secret" in refused["message"]
    assert "taken-secrets" in refused["message"]
    warned(kube, namespace, "taken", "OwnershipConflict")
    secret = kube.get("secret", "taken-secrets", namespace)
    assert secret is not None
    assert not secret["metadata"].get("ownerReferences")
    assert secret["data"] == {"mine": base64.b64encode(b"precious").decode()}

    # Deleting the RagDeployment must not take the user's Secret with it.
    kube.kubectl("delete", "ragdeployment", "taken", "-n", namespace)
    eventually(lambda: kube.get("ragdeployment", "taken", namespace) is None, timeout=30)
    assert kube.get("secret", "taken-secrets", namespace) is not None


def test_conflict_clears_once_the_other_object_is_gone(kube: Kube, namespace: str) -> None:
    kube.kubectl(
        "create", "configmap", "later-api-config", "--from-literal=a=b", "-n", namespace
    )  # fmt: skip
    kube.apply(namespace, rag_deployment("later", api={"replicas": 1}))
    assert reconciled_with(kube, namespace, "later", "False")["reason"] == "OwnershipConflict"
    assert kube.get("deployment", "later-api", namespace) is None

    kube.kubectl("delete", "configmap", "later-api-config", "-n", namespace)
    reconciled_with(kube, namespace, "later", "True")
    assert kube.get("deployment", "later-api", namespace) is not None


def test_an_unreachable_admission_webhook_is_reported_and_retried(
    kube: Kube, namespace: str
) -> None:
    # A cluster's validating webhook for ConfigMaps in this namespace, whose server is down:
    # the API server answers every write with a 500 until the webhook is fixed or removed.
    webhook = f"broken-{namespace}"
    kube.apply(
        namespace,
        {
            "apiVersion": "admissionregistration.k8s.io/v1",
            "kind": "ValidatingWebhookConfiguration",
            "metadata": {"name": webhook},
            "webhooks": [
                {
                    "name": "configmaps.broken.example.com",
                    "clientConfig": {"url": "https://127.0.0.1:1/validate"},
                    "rules": [
                        {
                            "apiGroups": [""],
                            "apiVersions": ["v1"],
                            "operations": ["CREATE", "UPDATE"],
                            "resources": ["configmaps"],
                        }
                    ],
                    "namespaceSelector": {
                        "matchLabels": {"kubernetes.io/metadata.name": namespace}
                    },
                    "failurePolicy": "Fail",
                    "sideEffects": "None",
                    "admissionReviewVersions": ["v1"],
                    "timeoutSeconds": 2,
                }
            ],
        },
    )
    try:
        kube.apply(namespace, rag_deployment("gated", api={"replicas": 1}))
        retrying = reconciled_with(kube, namespace, "gated", "False")
        assert retrying["reason"] == "ApplyRetrying"
        assert "configmaps.broken.example.com" in retrying["message"]
        assert "retrying in" in retrying["message"]
        warned(kube, namespace, "gated", "ApplyRetrying")
    finally:
        kube.kubectl("delete", "validatingwebhookconfiguration", webhook, "--ignore-not-found")
    reconciled_with(kube, namespace, "gated", "True")
    assert kube.get("configmap", "gated-api-config", namespace) is not None


def test_object_with_the_name_of_a_disabled_feature_is_not_deleted(
    kube: Kube, namespace: str
) -> None:
    kube.kubectl("create", "deployment", "web", "--image=nginx", "-n", namespace)
    kube.kubectl(
        "autoscale", "deployment", "web", "--name=quiet-api", "--max=3", "-n", namespace
    )  # fmt: skip
    kube.apply(namespace, rag_deployment("quiet", api={"replicas": 1}))  # autoscaling off
    reconciled_with(kube, namespace, "quiet", "True")
    assert kube.get("horizontalpodautoscaler", "quiet-api", namespace) is not None


def test_rag_deployment_recreated_at_once_adopts_its_children(kube: Kube, namespace: str) -> None:
    kube.apply(namespace, rag_deployment("again", api={"replicas": 1}))
    reconciled_with(kube, namespace, "again", "True")
    kube.kubectl("delete", "ragdeployment", "again", "-n", namespace, "--wait=false")
    kube.apply(namespace, rag_deployment("again", api={"replicas": 1}))

    def adopted() -> bool:
        rd = kube.get("ragdeployment", "again", namespace)
        deployment = kube.get("deployment", "again-api", namespace)
        config = kube.get("configmap", "again-api-config", namespace)
        if not (rd and deployment and config):
            return False
        uid = rd["metadata"]["uid"]
        return all(
            [ref["uid"] for ref in obj["metadata"].get("ownerReferences", [])] == [uid]
            for obj in (deployment, config)
        )

    eventually(adopted, timeout=60, what="the children owned by the new RagDeployment only")
    assert reconciled_with(kube, namespace, "again", "True")["reason"] == "Reconciled"


def test_signing_key_that_is_not_text_refuses_the_webhook_only(
    kube: Kube, namespace: str, tmp_path: Any
) -> None:
    key = tmp_path / "key"
    key.write_bytes(b"\xff\xfe\x00binary")
    kube.kubectl(
        "create", "secret", "generic", "bin-key", f"--from-file=hmac={key}", "-n", namespace
    )  # fmt: skip
    kube.apply(namespace, rag_deployment("signs", api={"replicas": 1}))
    kube.apply(namespace, _hook("binary", "signs", secret="bin-key"))

    accepted = eventually(
        lambda: condition(kube.get("webhook", "binary", namespace), "Accepted"),
        timeout=60,
        what="an Accepted condition",
    )
    assert (accepted["status"], accepted["reason"]) == ("False", "InvalidSecret")
    assert "bin-key" in accepted["message"]
    warned(kube, namespace, "binary", "InvalidSecret")
    # The RagDeployment still follows its spec: a bad Webhook does not stop it.
    kube.apply(namespace, rag_deployment("signs", api={"replicas": 2}))
    eventually(
        lambda: (kube.get("deployment", "signs-api", namespace) or {}).get("spec", {})
        .get("replicas") == 2,
        timeout=60,
        what="signs-api scaled to 2",
    )  # fmt: skip
    assert reconciled_with(kube, namespace, "signs", "True")


def test_env_the_operator_sets_itself_is_refused(kube: Kube, namespace: str) -> None:
    kube.apply(
        namespace,
        rag_deployment(
            "envy", api={"replicas": 1, "env": [{"name": "JWT_SECRET_KEY", "value": "x"}]}
        ),
    )
    refused = reconciled_with(kube, namespace, "envy", "False")
    assert refused["reason"] == "InvalidSpec"
    assert "spec.api.env" in refused["message"]
    assert "JWT_SECRET_KEY" in refused["message"]
    assert kube.get("ragdeployment", "envy", namespace)["status"]["phase"] == "Failed"  # type: ignore[index]

    twice = rag_deployment(
        "twice", api={"env": [{"name": "A", "value": "1"}, {"name": "A", "value": "2"}]}
    )
    error = kube.kubectl(
        "apply", "-n", namespace, "-f", "-", stdin=yaml.safe_dump(twice), check=False
    )
    assert "Duplicate value" in error


def test_storage_change_is_reported_and_does_not_block_other_changes(
    kube: Kube, namespace: str
) -> None:
    kube.apply(namespace, rag_deployment("grow", api={"replicas": 1}))
    reconciled_with(kube, namespace, "grow", "True")

    kube.apply(
        namespace,
        rag_deployment(
            "grow",
            api={"replicas": 2},
            vectorStore={"chroma": {"storage": {"size": "5Gi"}}},
            networkPolicy={"enabled": False},
        ),
    )
    refused = reconciled_with(kube, namespace, "grow", "False")
    assert refused["reason"] == "StorageChangeRejected"
    assert "5Gi" in refused["message"]
    assert "data-grow-chroma-0" in refused["message"]
    warned(kube, namespace, "grow", "StorageChangeRejected")
    # Everything else in the same change is applied.
    deployment = kube.get("deployment", "grow-api", namespace)
    assert deployment is not None
    assert deployment["spec"]["replicas"] == 2
    assert kube.get("networkpolicy", "grow-chroma", namespace) is None
    statefulset = kube.get("statefulset", "grow-chroma", namespace)
    assert statefulset is not None
    claim = statefulset["spec"]["volumeClaimTemplates"][0]["spec"]
    assert claim["resources"]["requests"]["storage"] == "1Gi"

    # The same size written differently is no change; going back clears the condition.
    kube.apply(
        namespace,
        rag_deployment(
            "grow",
            api={"replicas": 2},
            vectorStore={"chroma": {"storage": {"size": "1024Mi"}}},
            networkPolicy={"enabled": False},
        ),
    )
    assert reconciled_with(kube, namespace, "grow", "True")["reason"] == "Reconciled"


def test_webhook_waits_for_its_rag_deployment(kube: Kube, namespace: str) -> None:
    kube.kubectl(
        "create", "secret", "generic", "k", "--from-literal=hmac=s3cr3t", "-n", namespace
    )  # fmt: skip
    kube.apply(namespace, _hook("early", "notyet", secret="k"))
    waiting = eventually(
        lambda: condition(kube.get("webhook", "early", namespace), "Accepted"),
        timeout=60,
        what="an Accepted condition",
    )
    assert (waiting["status"], waiting["reason"]) == ("False", "RagDeploymentNotFound")

    kube.apply(namespace, rag_deployment("notyet", api={"replicas": 1}))

    def rendered() -> list[dict[str, Any]]:
        secret = kube.get("secret", "notyet-webhooks", namespace) or {"data": {}}
        encoded = secret["data"].get("webhooks.json")
        return json.loads(base64.b64decode(encoded))["webhooks"] if encoded else []

    assert eventually(rendered, timeout=60, what="the early Webhook rendered")[0]["name"] == (
        f"{namespace}/early"
    )
    eventually(
        lambda: (c := condition(kube.get("webhook", "early", namespace), "Accepted"))
        and c["status"] == "True",
        timeout=60,
        what="early Accepted",
    )  # fmt: skip


def _hook(name: str, rd: str, *, secret: str) -> dict[str, Any]:
    return {
        "apiVersion": "ragkube.dev/v1alpha1",
        "kind": "Webhook",
        "metadata": {"name": name},
        "spec": {
            "ragDeploymentRef": {"name": rd},
            "url": "https://hooks.example.com/x",
            "events": ["query.completed"],
            "secretRef": {"name": secret, "key": "hmac"},
        },
    }
