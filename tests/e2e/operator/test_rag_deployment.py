"""A RagDeployment on a real API server: children, status, drift, changes, deletion."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest

from ragkube_contract import api_image

from .operator_e2e import Kube, OperatorProcess, condition, eventually, rag_deployment

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[3]


def ready(kube: Kube, namespace: str, name: str) -> dict[str, Any] | None:
    obj = kube.get("ragdeployment", name, namespace)
    return obj if obj and (obj.get("status") or {}).get("phase") == "Ready" else None


def owned_by(obj: dict[str, Any], rd: dict[str, Any]) -> bool:
    return any(
        ref["uid"] == rd["metadata"]["uid"] and ref.get("controller")
        for ref in obj["metadata"].get("ownerReferences", [])
    )


def test_sample_becomes_ready_with_every_child(kube: Kube, namespace: str) -> None:
    kube.apply(namespace, (ROOT / "samples" / "ragdeployment.yaml").read_text())
    rd = eventually(lambda: ready(kube, namespace, "docs"), timeout=90, what="docs Ready")

    status = rd["status"]
    assert status["endpoint"] == f"http://docs-api.{namespace}.svc:{api_image.API_PORT}"
    assert (status["replicas"], status["readyReplicas"], status["ready"]) == (2, 2, "2/2")
    assert (status["embeddingModel"], status["embeddingDimension"]) == ("all-MiniLM-L6-v2", 384)
    assert status["observedGeneration"] == rd["metadata"]["generation"]
    monitoring = condition(rd, "MonitoringConfigured")
    assert monitoring is not None
    assert (monitoring["status"], monitoring["reason"]) == (
        "False",
        "PrometheusOperatorCRDsMissing",
    )

    children = {
        ("configmap", "docs-api-config"),
        ("secret", "docs-secrets"),
        ("secret", "docs-webhooks"),
        ("deployment", "docs-api"),
        ("service", "docs-api"),
        ("service", "docs-chroma"),
        ("statefulset", "docs-chroma"),
        ("poddisruptionbudget", "docs-api"),
        ("networkpolicy", "docs-chroma"),
    }
    for kind, name in children:
        obj = kube.get(kind, name, namespace)
        assert obj is not None, f"{kind}/{name} missing"
        assert owned_by(obj, rd), f"{kind}/{name} is not owned by the RagDeployment"
        managers = {m["manager"] for m in obj["metadata"]["managedFields"]}
        assert "ragkube-operator" in managers
    assert kube.get("horizontalpodautoscaler", "docs-api", namespace) is None

    deployment = kube.get("deployment", "docs-api", namespace)
    assert deployment is not None
    pod = deployment["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert container["image"] == "ghcr.io/ragkube/api:0.1.0"
    assert container["livenessProbe"]["httpGet"]["path"] == api_image.LIVENESS_PATH
    assert container["readinessProbe"]["httpGet"]["path"] == api_image.READINESS_PATH
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert (
        "ragkube.dev/config-checksum" in deployment["spec"]["template"]["metadata"]["annotations"]
    )

    statefulset = kube.get("statefulset", "docs-chroma", namespace)
    assert statefulset is not None
    claim = statefulset["spec"]["volumeClaimTemplates"][0]["spec"]
    assert claim["resources"]["requests"]["storage"] == "2Gi"

    configmap = kube.get("configmap", "docs-api-config", namespace)
    assert configmap is not None
    assert configmap["data"]["CHROMA_HOST"] == f"docs-chroma.{namespace}.svc"
    assert set(configmap["data"]) <= set(api_image.CONFIG_ENV)


def test_kubectl_get_shows_the_printer_columns(kube: Kube, namespace: str) -> None:
    kube.apply(namespace, rag_deployment("cols", api={"replicas": 1}))
    eventually(lambda: ready(kube, namespace, "cols"), timeout=90, what="cols Ready")
    header, row = kube.kubectl("get", "ragdeployments", "-n", namespace).splitlines()[:2]
    assert header.split() == ["NAME", "READY", "PHASE", "REPLICAS", "ENDPOINT", "URL", "AGE"]
    assert row.split()[:5] == ["cols", "1/1", "Ready", "1", f"http://cols-api.{namespace}.svc:8000"]
    assert "cols" in kube.kubectl("get", "rd", "-n", namespace)
    assert "cols" in kube.kubectl("get", "ragkube", "-n", namespace)


def test_drift_is_restored(kube: Kube, namespace: str) -> None:
    kube.apply(namespace, rag_deployment("drift", api={"replicas": 2}))
    eventually(lambda: ready(kube, namespace, "drift"), timeout=90, what="drift Ready")

    kube.kubectl("scale", "deployment/drift-api", "--replicas=5", "-n", namespace)
    eventually(
        lambda: (
            (kube.get("deployment", "drift-api", namespace) or {}).get("spec", {}).get("replicas")
            == 2
        ),
        timeout=30,
        what="the hand-scaled Deployment back at 2 replicas",
    )
    kube.kubectl("delete", "configmap", "drift-api-config", "-n", namespace)
    eventually(
        lambda: kube.get("configmap", "drift-api-config", namespace),
        timeout=30,
        what="the deleted ConfigMap restored",
    )
    kube.kubectl("delete", "service", "drift-chroma", "-n", namespace)
    eventually(
        lambda: kube.get("service", "drift-chroma", namespace),
        timeout=30,
        what="the deleted Service restored",
    )


def test_spec_change_rolls_out_and_features_turn_off(kube: Kube, namespace: str) -> None:
    kube.apply(namespace, rag_deployment("change", api={"replicas": 1}))
    eventually(lambda: ready(kube, namespace, "change"), timeout=90, what="change Ready")
    before = kube.get("deployment", "change-api", namespace)
    assert before is not None
    old_checksum = before["spec"]["template"]["metadata"]["annotations"]

    kube.apply(
        namespace,
        rag_deployment(
            "change",
            api={"replicas": 1, "autoscaling": {"enabled": True, "minReplicas": 1}},
            retrieval={"topK": 9},
            networkPolicy={"enabled": False},
        ),
    )
    eventually(
        lambda: (
            (kube.get("configmap", "change-api-config", namespace) or {})
            .get("data", {})
            .get("RETRIEVAL_TOP_K")
            == "9"
        ),
        timeout=30,
        what="RETRIEVAL_TOP_K=9 in the ConfigMap",
    )
    after = eventually(
        lambda: (
            (d := kube.get("deployment", "change-api", namespace))
            and d["spec"]["template"]["metadata"]["annotations"] != old_checksum
            and d
        ),
        timeout=30,
        what="a new config checksum on the pod template",
    )
    assert after["metadata"]["generation"] > before["metadata"]["generation"]
    eventually(
        lambda: kube.get("horizontalpodautoscaler", "change-api", namespace),
        timeout=30,
        what="the HPA",
    )
    eventually(
        lambda: kube.get("networkpolicy", "change-chroma", namespace) is None,
        timeout=30,
        what="the NetworkPolicy removed",
    )
    rd = eventually(lambda: ready(kube, namespace, "change"), timeout=90, what="Ready again")
    assert rd["status"]["observedGeneration"] == rd["metadata"]["generation"]


def test_generated_secret_is_kept_and_user_secret_honoured(kube: Kube, namespace: str) -> None:
    kube.apply(namespace, rag_deployment("keys", api={"replicas": 1}))
    eventually(lambda: ready(kube, namespace, "keys"), timeout=90, what="keys Ready")
    first = kube.get("secret", "keys-secrets", namespace)
    assert first is not None
    assert len(base64.b64decode(first["data"]["jwt-secret-key"])) >= 48

    kube.kubectl(
        "create", "secret", "generic", "my-jwt", "--from-literal=key=" + "k" * 48, "-n", namespace
    )
    kube.apply(
        namespace,
        rag_deployment(
            "keys", api={"replicas": 1}, auth={"jwtSecretRef": {"name": "my-jwt", "key": "key"}}
        ),
    )

    def jwt_env() -> dict[str, Any] | None:
        deployment = kube.get("deployment", "keys-api", namespace) or {}
        env = deployment["spec"]["template"]["spec"]["containers"][0]["env"]
        ref = next(e for e in env if e["name"] == "JWT_SECRET_KEY")["valueFrom"]["secretKeyRef"]
        return ref if ref["name"] == "my-jwt" else None

    assert eventually(jwt_env, timeout=30, what="JWT_SECRET_KEY from my-jwt") == {
        "name": "my-jwt",
        "key": "key",
    }
    second = kube.get("secret", "keys-secrets", namespace)
    assert second is not None
    assert second["data"]["chroma-auth-token"] == first["data"]["chroma-auth-token"]


def test_invalid_specs_are_refused_with_readable_messages(kube: Kube, namespace: str) -> None:
    bad = rag_deployment("bad", api={"autoscaling": {"minReplicas": 5, "maxReplicas": 2}})
    error = kube.kubectl("apply", "-n", namespace, "-f", "-", stdin=_yaml(bad), check=False)
    assert "minReplicas must be less than or equal to autoscaling.maxReplicas" in error
    error = kube.kubectl(
        "apply",
        "-n",
        namespace,
        "-f",
        "-",
        stdin=_yaml(rag_deployment("bad", retrieval={"mode": "magic"})),
        check=False,
    )
    assert 'Unsupported value: "magic"' in error
    error = kube.kubectl(
        "apply",
        "-n",
        namespace,
        "-f",
        "-",
        stdin=_yaml(rag_deployment("Bad_Name")),
        check=False,
    )
    assert "metadata.name" in error


def test_spec_the_schema_cannot_judge_fails_with_reason_and_event(
    kube: Kube, namespace: str
) -> None:
    kube.apply(namespace, rag_deployment("odd", embeddings={"model": "my-own-model"}))
    rd = eventually(
        lambda: (
            (o := kube.get("ragdeployment", "odd", namespace)) and condition(o, "Reconciled") and o
        ),
        timeout=30,
        what="a Reconciled condition",
    )
    reconciled = condition(rd, "Reconciled")
    assert reconciled is not None
    assert (reconciled["status"], reconciled["reason"]) == ("False", "InvalidSpec")
    assert "spec.embeddings.dimension" in reconciled["message"]
    assert rd["status"]["phase"] == "Failed"
    events = eventually(
        lambda: [
            e
            for e in kube.items("events", namespace)
            if e["involvedObject"]["name"] == "odd" and e["reason"] == "InvalidSpec"
        ],
        timeout=30,
        what="a Warning event",
    )
    assert events[0]["type"] == "Warning"

    kube.apply(
        namespace, rag_deployment("refs", auth={"usersSecretRef": {"name": "nope", "key": "u"}})
    )
    rd = eventually(
        lambda: (
            (o := kube.get("ragdeployment", "refs", namespace)) and condition(o, "Reconciled") and o
        ),
        timeout=30,
        what="a Reconciled condition",
    )
    assert condition(rd, "Reconciled")["reason"] == "SecretNotFound"  # type: ignore[index]


def test_deleting_the_rag_deployment_collects_its_children(kube: Kube, namespace: str) -> None:
    kube.apply(namespace, rag_deployment("gone", api={"replicas": 1}))
    eventually(lambda: ready(kube, namespace, "gone"), timeout=90, what="gone Ready")
    kube.kubectl("delete", "ragdeployment", "gone", "-n", namespace)
    for kind in ("deployment", "statefulset", "service", "configmap", "secret"):
        eventually(
            lambda kind=kind: not kube.items(kind, namespace, "app.kubernetes.io/instance=gone"),
            timeout=60,
            what=f"every {kind} of gone collected",
        )


def test_restarted_operator_converges_without_duplicates(
    kube: Kube, namespace: str, operator: OperatorProcess
) -> None:
    kube.apply(namespace, rag_deployment("crash", api={"replicas": 2}))
    eventually(
        lambda: kube.get("configmap", "crash-api-config", namespace),
        timeout=30,
        what="the reconcile under way",
    )
    operator.kill()
    kube.apply(namespace, rag_deployment("crash", api={"replicas": 3}))
    operator.start()
    rd = eventually(
        lambda: (o := ready(kube, namespace, "crash")) and o["status"]["replicas"] == 3 and o,
        timeout=90,
        what="crash Ready with 3 replicas after the restart",
    )
    assert rd["status"]["readyReplicas"] == 3
    selector = "app.kubernetes.io/instance=crash"
    assert len(kube.items("deployment", namespace, selector)) == 1
    # One each: Chroma and the lexical index server.
    assert len(kube.items("statefulset", namespace, selector)) == 2
    assert len(kube.items("replicaset", namespace, selector)) == 1
    assert len(kube.items("pod", namespace, selector + ",app.kubernetes.io/component=api")) == 3
    metrics = operator.metrics()
    assert 'ragkube_operator_reconciles_total{kind="RagDeployment",outcome="success"}' in metrics


def _yaml(obj: dict[str, Any]) -> str:
    import yaml

    return yaml.safe_dump(obj)
