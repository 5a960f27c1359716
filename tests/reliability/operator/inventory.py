"""What a namespace holds, so that tests can say "exactly these objects, nothing leaked"."""

from __future__ import annotations

import json
from collections import Counter

from tests.e2e.operator.operator_e2e import Kube

#: Every kind a RagDeployment can leave behind, directly or through its workloads.
KINDS = (
    "configmaps",
    "secrets",
    "services",
    "deployments.apps",
    "replicasets.apps",
    "statefulsets.apps",
    "pods",
    "persistentvolumeclaims",
    "horizontalpodautoscalers.autoscaling",
    "poddisruptionbudgets.policy",
    "networkpolicies.networking.k8s.io",
)
#: Objects Kubernetes itself puts in every namespace.
BUILT_IN = frozenset({("ConfigMap", "kube-root-ca.crt")})


def objects(kube: Kube, namespace: str) -> set[tuple[str, str]]:
    """(kind, name) of every object of `KINDS` in the namespace, bar the built-in ones."""
    listing = json.loads(kube.kubectl("get", ",".join(KINDS), "-n", namespace, "-o", "json"))
    found = {(item["kind"], item["metadata"]["name"]) for item in listing["items"]}
    return found - BUILT_IN


def children(name: str, *, autoscaling: bool = False) -> set[tuple[str, str]]:
    """The objects the operator itself creates for a RagDeployment named `name`."""
    expected = {
        ("ConfigMap", f"{name}-api-config"),
        ("Secret", f"{name}-secrets"),
        ("Secret", f"{name}-webhooks"),
        ("Deployment", f"{name}-api"),
        ("Service", f"{name}-api"),
        ("Service", f"{name}-chroma"),
        ("StatefulSet", f"{name}-chroma"),
        ("PodDisruptionBudget", f"{name}-api"),
        ("NetworkPolicy", f"{name}-chroma"),
        ("StatefulSet", f"{name}-index"),
        ("Service", f"{name}-index"),
        ("NetworkPolicy", f"{name}-index"),
    }
    if autoscaling:
        expected.add(("HorizontalPodAutoscaler", f"{name}-api"))
    return expected


def volume_claims(name: str) -> set[tuple[str, str]]:
    """The data claims of a RagDeployment's storage tier (Chroma and the lexical index), kept
    when the RagDeployment is deleted."""
    return {
        ("PersistentVolumeClaim", f"data-{name}-chroma-0"),
        ("PersistentVolumeClaim", f"data-{name}-index-0"),
    }


def storage_pods(name: str) -> set[tuple[str, str]]:
    """The pods of a RagDeployment's storage tier."""
    return {("Pod", f"{name}-chroma-0"), ("Pod", f"{name}-index-0")}


def generated(found: set[tuple[str, str]], kind: str, prefix: str) -> int:
    """How many objects of `kind` whose generated names start with `prefix` are in `found`."""
    return Counter(k for k, n in found if k == kind and n.startswith(prefix))[kind]
