"""The local control plane is a real Kubernetes API: CRDs, controllers, scheduling, GC."""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.conftest import KubeCluster

pytestmark = pytest.mark.e2e


def kubectl(cluster: KubeCluster, *args: str, stdin: str | None = None) -> str:
    result = subprocess.run(
        [str(cluster.kubectl), "--kubeconfig", str(cluster.kubeconfig), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def get_json(cluster: KubeCluster, *args: str) -> dict[str, Any]:
    return dict(json.loads(kubectl(cluster, "get", *args, "-o", "json")))


def eventually(check: Callable[[], Any], timeout: float = 60.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.5)


@pytest.fixture
def namespace(kube_cluster: KubeCluster) -> Iterator[str]:
    name = f"smoke-{uuid.uuid4().hex[:8]}"
    kubectl(kube_cluster, "create", "namespace", name)
    yield name
    kubectl(kube_cluster, "delete", "namespace", name, "--wait=false")


CRD = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.smoke.ragkube.dev"},
    "spec": {
        "group": "smoke.ragkube.dev",
        "names": {"kind": "Widget", "plural": "widgets", "singular": "widget"},
        "scope": "Namespaced",
        "versions": [
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "properties": {
                            "spec": {"type": "object", "properties": {"size": {"type": "integer"}}}
                        },
                    }
                },
            }
        ],
    },
}


def test_custom_resource_round_trips_through_the_api_server(
    kube_cluster: KubeCluster, namespace: str
) -> None:
    kubectl(kube_cluster, "apply", "-f", "-", stdin=json.dumps(CRD))
    kubectl(
        kube_cluster,
        "wait",
        "--for=condition=Established",
        "--timeout=60s",
        "crd/widgets.smoke.ragkube.dev",
    )
    widget = {
        "apiVersion": "smoke.ragkube.dev/v1",
        "kind": "Widget",
        "metadata": {"name": "w1", "namespace": namespace},
        "spec": {"size": 3},
    }

    kubectl(kube_cluster, "apply", "-f", "-", stdin=json.dumps(widget))

    read_back = get_json(kube_cluster, "widget", "w1", "-n", namespace)
    assert read_back["spec"] == {"size": 3}
    assert read_back["metadata"]["uid"]


def test_deployment_gets_a_replicaset_and_a_ready_pod_then_is_garbage_collected(
    kube_cluster: KubeCluster, namespace: str
) -> None:
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": namespace},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]},
            },
        },
    }
    kubectl(kube_cluster, "apply", "-f", "-", stdin=json.dumps(deployment))

    def ready_pod() -> dict[str, Any] | None:
        pods = get_json(kube_cluster, "pods", "-n", namespace, "-l", "app=web")["items"]
        for pod in pods:
            conditions = pod.get("status", {}).get("conditions", [])
            if any(c["type"] == "Ready" and c["status"] == "True" for c in conditions):
                return dict(pod)
        return None

    pod = eventually(ready_pod, what="a Ready pod of the Deployment")
    replicasets = get_json(kube_cluster, "replicasets", "-n", namespace)["items"]
    assert len(replicasets) == 1
    assert replicasets[0]["metadata"]["ownerReferences"][0]["name"] == "web"
    assert pod["spec"]["nodeName"] == "kwok-node-0"
    status = get_json(kube_cluster, "deployment", "web", "-n", namespace)["status"]
    assert status.get("readyReplicas") == 1

    kubectl(kube_cluster, "delete", "deployment", "web", "-n", namespace)

    eventually(
        lambda: not get_json(kube_cluster, "replicasets", "-n", namespace)["items"],
        what="the ReplicaSet to be garbage-collected",
    )


def test_statefulset_claims_are_bound_and_its_pod_becomes_ready(
    kube_cluster: KubeCluster, namespace: str
) -> None:
    statefulset = {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": "db", "namespace": namespace},
        "spec": {
            "serviceName": "db",
            "replicas": 1,
            "selector": {"matchLabels": {"app": "db"}},
            "template": {
                "metadata": {"labels": {"app": "db"}},
                "spec": {
                    "containers": [
                        {
                            "name": "db",
                            "image": "db:1",
                            "volumeMounts": [{"name": "data", "mountPath": "/data"}],
                        }
                    ]
                },
            },
            "volumeClaimTemplates": [
                {
                    "metadata": {"name": "data"},
                    "spec": {
                        "accessModes": ["ReadWriteOnce"],
                        "resources": {"requests": {"storage": "1Gi"}},
                    },
                }
            ],
        },
    }

    kubectl(kube_cluster, "apply", "-f", "-", stdin=json.dumps(statefulset))

    eventually(
        lambda: (
            get_json(kube_cluster, "statefulset", "db", "-n", namespace)["status"].get(
                "readyReplicas"
            )
            == 1
        ),
        what="the StatefulSet's pod to be Ready",
    )
    claim = get_json(kube_cluster, "pvc", "data-db-0", "-n", namespace)
    assert claim["status"]["phase"] == "Bound"
