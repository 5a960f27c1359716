"""Children deleted or edited by hand are put back, whatever their kind.

`tests/e2e/operator` restores a hand-scaled Deployment, a deleted ConfigMap and a deleted
Service; here every kind of child is deleted or has a field it owns changed, and must be
back as the operator built it within seconds (well before the slow resync safety net).
Edits go through `kubectl patch`, a field manager other than the operator's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest

from tests.e2e.operator.operator_e2e import Kube, eventually, rag_deployment

pytestmark = pytest.mark.e2e
RESTORE_SECONDS = 30


@dataclass(frozen=True)
class Drift:
    """A hand-made change: delete the child, or merge-patch it; `field` is what must return."""

    kind: str
    name: str
    patch: dict[str, Any] | None
    field: tuple[str | int, ...]


DRIFTS = [
    Drift("poddisruptionbudget", "d-api", None, ("spec",)),
    Drift("networkpolicy", "d-chroma", None, ("spec",)),
    Drift("horizontalpodautoscaler", "d-api", None, ("spec",)),
    Drift("statefulset", "d-chroma", None, ("spec", "serviceName")),
    Drift("secret", "d-webhooks", None, ("data",)),
    Drift("service", "d-api", None, ("spec", "ports")),
    Drift("deployment", "d-api", None, ("spec", "template", "spec", "containers", 0, "image")),
    Drift("networkpolicy", "d-chroma", {"spec": {"ingress": [{}]}}, ("spec", "ingress")),
    Drift("poddisruptionbudget", "d-api", {"spec": {"maxUnavailable": 0}}, ("spec",)),
    Drift("horizontalpodautoscaler", "d-api", {"spec": {"maxReplicas": 9}}, ("spec",)),
    Drift(
        "service",
        "d-api",
        {"spec": {"ports": [{"name": "http", "port": 8000, "targetPort": 9999}]}},
        ("spec", "ports"),
    ),
    Drift("service", "d-api", {"spec": {"selector": {"app": "other"}}}, ("spec", "selector")),
    Drift("configmap", "d-api-config", {"data": {"RETRIEVAL_TOP_K": "1"}}, ("data",)),
    Drift(
        "statefulset",
        "d-chroma",
        {"spec": {"template": {"spec": {"containers": [{"name": "chroma", "image": "evil"}]}}}},
        ("spec", "template", "spec", "containers", 0, "image"),
    ),
]


def dig(obj: dict[str, Any] | None, path: tuple[str | int, ...]) -> Any:
    value: Any = obj
    for key in path:
        value = value[key]
    return value


@pytest.mark.parametrize(
    "drift",
    DRIFTS,
    ids=[f"{'edit' if d.patch else 'delete'}-{d.kind}" for d in DRIFTS],
)
def test_hand_made_change_is_undone(kube: Kube, namespace: str, drift: Drift) -> None:
    # Autoscaling only where the HPA is the subject: its controller's own writes to the
    # Deployment would otherwise trigger reconciles that repair drift by chance.
    autoscaling = {"enabled": drift.kind == "horizontalpodautoscaler"}
    kube.apply(namespace, rag_deployment("d", api={"replicas": 1, "autoscaling": autoscaling}))
    eventually(
        lambda: (
            ((kube.get("ragdeployment", "d", namespace) or {}).get("status") or {}).get("phase")
            == "Ready"
        ),
        timeout=60,
        what="d Ready",
    )
    before = kube.get(drift.kind, drift.name, namespace)
    assert before is not None
    wanted = dig(before, drift.field)

    if drift.patch is None:
        kube.kubectl("delete", drift.kind, drift.name, "-n", namespace)
    else:
        kube.kubectl(
            "patch", drift.kind, drift.name, "-n", namespace,
            "--type=merge", "-p", json.dumps(drift.patch),
        )  # fmt: skip
        changed = kube.get(drift.kind, drift.name, namespace)
        assert changed is not None
        assert changed["metadata"]["resourceVersion"] != before["metadata"]["resourceVersion"]

    def restored() -> bool:
        now = kube.get(drift.kind, drift.name, namespace)
        return now is not None and dig(now, drift.field) == wanted

    eventually(restored, timeout=RESTORE_SECONDS, what=f"{drift.kind}/{drift.name} restored")
    now = kube.get(drift.kind, drift.name, namespace)
    assert now is not None
    managers = {m["manager"] for m in now["metadata"]["managedFields"]}
    assert "ragkube-operator" in managers


def test_rollout_restart_by_hand_is_kept(kube: Kube, namespace: str) -> None:
    """`kubectl rollout restart` sets a field the operator does not own: it stays, pods roll."""
    kube.apply(namespace, rag_deployment("d", api={"replicas": 1}))
    eventually(
        lambda: (
            ((kube.get("ragdeployment", "d", namespace) or {}).get("status") or {}).get("phase")
            == "Ready"
        ),
        timeout=60,
        what="d Ready",
    )
    kube.kubectl("rollout", "restart", "deployment/d-api", "-n", namespace)
    eventually(
        lambda: len(kube.items("replicaset", namespace, "app.kubernetes.io/instance=d")) == 2,
        timeout=30,
        what="a second ReplicaSet for the restart",
    )
    eventually(
        lambda: (
            ((kube.get("ragdeployment", "d", namespace) or {}).get("status") or {}).get("phase")
            == "Ready"
        ),
        timeout=60,
        what="d Ready after the restart",
    )
    deployment = kube.get("deployment", "d-api", namespace)
    assert deployment is not None
    annotations = deployment["spec"]["template"]["metadata"]["annotations"]
    assert "kubectl.kubernetes.io/restartedAt" in annotations
    assert "ragkube.dev/config-checksum" in annotations
