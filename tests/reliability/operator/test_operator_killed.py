"""The operator killed with SIGKILL in the middle of its work converges after a restart.

`tests/e2e/operator` kills it once while one RagDeployment reconciles; here it dies twice
during the first creation burst of several RagDeployments (once mid-burst, once while the
restarted operator resumes), and the namespace must end up holding exactly the objects the
RagDeployments call for: nothing duplicated, nothing left half-made, no spurious rollout.
"""

from __future__ import annotations

import time

import pytest
import yaml

from tests.e2e.operator.operator_e2e import (
    Kube,
    OperatorProcess,
    eventually,
    next_line,
    rag_deployment,
)

from . import inventory

pytestmark = pytest.mark.e2e
NAMES = [f"burst{i}" for i in range(5)]


def all_ready(kube: Kube, namespace: str) -> bool:
    items = kube.items("ragdeployments", namespace)
    phases = {item["metadata"]["name"]: (item.get("status") or {}).get("phase") for item in items}
    return all(phases.get(name) == "Ready" for name in NAMES)


def expected_objects(found: set[tuple[str, str]]) -> bool:
    """Each RagDeployment's children, one ReplicaSet, its pods and its claims; nothing else."""
    expected: set[tuple[str, str]] = set()
    for name in NAMES:
        expected |= inventory.children(name)
        expected |= inventory.storage_pods(name) | inventory.volume_claims(name)
        if inventory.generated(found, "ReplicaSet", f"{name}-api-") != 1:
            return False
        if inventory.generated(found, "Pod", f"{name}-api-") != 2:
            return False
    generated = {(k, n) for k, n in found if k in ("ReplicaSet", "Pod") and "-api-" in n}
    return found - generated == expected


def test_killed_twice_during_a_creation_burst_converges_exactly(
    kube: Kube, namespace: str, operator: OperatorProcess
) -> None:
    manifests = [rag_deployment(name, api={"replicas": 2}) for name in NAMES]
    managed = "app.kubernetes.io/managed-by=ragkube-operator"
    # Killed as soon as the first Secret exists (Secrets are applied first), seen through a
    # watch: polling with kubectl was slow enough under load for the whole burst to finish
    # first. The RagDeployments of the burst are then half applied, or not yet begun.
    first_secret = kube.watch("secrets", namespace, managed)
    try:
        kube.apply(namespace, yaml.safe_dump_all(manifests))
        next_line(first_secret, timeout=30, what="the first Secret of the burst")
        operator.kill()
    finally:
        first_secret.kill()
        first_secret.wait(timeout=10)
    made_before_kill = inventory.objects(kube, namespace)
    done = [name for name in NAMES if inventory.children(name) <= made_before_kill]
    assert len(done) < len(NAMES), "the burst was over before the kill"

    operator.start()
    time.sleep(1.0)  # resuming: the restarted operator is re-applying the burst
    operator.kill()
    operator.start()

    eventually(lambda: all_ready(kube, namespace), timeout=120, what="every RagDeployment Ready")

    def settled() -> set[tuple[str, str]] | None:
        found = inventory.objects(kube, namespace)
        return found if expected_objects(found) else None

    try:
        found = eventually(settled, timeout=60, what="exactly the expected objects")
    except AssertionError as error:
        found = inventory.objects(kube, namespace)
        raise AssertionError(f"{error}; found {sorted(found)}") from None
    # Per RagDeployment: its children, one ReplicaSet with two API pods, the storage pods and
    # their claims.
    per_deployment = (
        len(inventory.children("x"))
        + 3
        + len(inventory.storage_pods("x"))
        + len(inventory.volume_claims("x"))
    )
    assert len(found) == len(NAMES) * per_deployment
    for item in kube.items("ragdeployments", namespace):
        status = item["status"]
        assert status["observedGeneration"] == item["metadata"]["generation"]
        assert (status["replicas"], status["readyReplicas"]) == (2, 2)
