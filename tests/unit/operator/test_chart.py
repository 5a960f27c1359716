"""The Helm chart lints clean, grants least privilege and runs the operator restricted."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from .operator_factories import KUBERNETES_VERSION

ROOT = Path(__file__).resolve().parents[3]
CHART = ROOT / "charts" / "ragkube"


@pytest.fixture(scope="module")
def helm() -> Path:
    """The pinned helm binary (built or fetched by hack/localcluster.py)."""
    import localcluster

    path = localcluster.binaries().helm
    if not path.exists():
        path = localcluster.build(verbose=False).helm
    return path


def render(helm: Path, *sets: str) -> list[dict[str, Any]]:
    args = [str(helm), "template", "rk", str(CHART), "--namespace", "ragkube-system"]
    for value in sets:
        args += ["--set", value]
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    return [doc for doc in yaml.safe_load_all(out) if doc]


def by_kind(docs: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    return next(doc for doc in docs if doc["kind"] == kind)


@pytest.mark.parametrize(
    "sets", [(), ("replicaCount=2", "sample.enabled=true")], ids=["defaults", "peering+sample"]
)
def test_helm_lint_is_clean(helm: Path, sets: tuple[str, ...]) -> None:
    args = [str(helm), "lint", "--strict", str(CHART)]
    for value in sets:
        args += ["--set", value]
    result = subprocess.run(args, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_values_schema_rejects_unknown_values(helm: Path) -> None:
    with pytest.raises(subprocess.CalledProcessError) as info:
        render(helm, "replicas=3")
    assert "additional properties" in info.value.stderr.lower()


def test_values_file_names_its_schema() -> None:
    first = (CHART / "values.yaml").read_text().splitlines()[0]
    assert first == "# yaml-language-server: $schema=values.schema.json"


def test_rendered_kubernetes_objects_validate(helm: Path) -> None:
    for doc in render(helm, "replicaCount=2"):
        if doc["apiVersion"].startswith(("kopf.dev", "ragkube.dev")):
            continue
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def _rules(docs: list[dict[str, Any]]) -> dict[tuple[str, str], set[str]]:
    granted: dict[tuple[str, str], set[str]] = {}
    for rule in by_kind(docs, "ClusterRole")["rules"]:
        for group in rule["apiGroups"]:
            for resource in rule["resources"]:
                granted.setdefault((group, resource), set()).update(rule["verbs"])
    return granted


def test_cluster_role_grants_only_what_the_operator_uses(helm: Path) -> None:
    granted = _rules(render(helm))
    assert all("*" not in key and "*" not in verbs for key, verbs in granted.items())
    apply = {"create", "patch", "delete"}
    watched = apply | {"get", "list", "watch"}
    assert granted == {
        ("ragkube.dev", "ragdeployments"): {"get", "list", "watch", "patch"},
        ("ragkube.dev", "webhooks"): {"get", "list", "watch", "patch"},
        ("ragkube.dev", "ragdeployments/status"): {"get", "patch"},
        ("ragkube.dev", "webhooks/status"): {"get", "patch"},
        ("ragkube.dev", "ragdeployments/finalizers"): {"update"},
        ("ragkube.dev", "webhooks/finalizers"): {"update"},
        ("", "configmaps"): watched,
        ("", "secrets"): watched,
        ("", "services"): watched,
        ("apps", "deployments"): watched,
        ("apps", "statefulsets"): watched,
        ("autoscaling", "horizontalpodautoscalers"): watched,
        ("policy", "poddisruptionbudgets"): watched,
        ("networking.k8s.io", "networkpolicies"): watched,
        ("networking.k8s.io", "ingresses"): watched,
        ("gateway.networking.k8s.io", "httproutes"): watched,
        ("monitoring.coreos.com", "servicemonitors"): apply | {"get"},
        ("monitoring.coreos.com", "prometheusrules"): apply | {"get"},
        ("", "events"): {"create"},
        ("apiextensions.k8s.io", "customresourcedefinitions"): {"list", "watch"},
    }


def test_peering_is_granted_and_created_only_with_several_replicas(helm: Path) -> None:
    assert ("kopf.dev", "clusterkopfpeerings") not in _rules(render(helm))
    docs = render(helm, "replicaCount=2")
    assert ("kopf.dev", "clusterkopfpeerings") in _rules(docs)
    assert by_kind(docs, "ClusterKopfPeering")["metadata"]["name"] == "ragkube"
    args = by_kind(docs, "Deployment")["spec"]["template"]["spec"]["containers"][0]["args"]
    assert "--peering=ragkube" in args


def test_operator_pod_is_restricted_and_probed(helm: Path) -> None:
    pod = by_kind(render(helm), "Deployment")["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    container = pod["containers"][0]
    context = container["securityContext"]
    assert context["readOnlyRootFilesystem"] is True
    assert context["allowPrivilegeEscalation"] is False
    assert context["capabilities"]["drop"] == ["ALL"]
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "health"}
    assert "--liveness=http://0.0.0.0:8080/healthz" in container["args"]
    assert "--standalone" in container["args"]
    assert container["resources"]["limits"]["memory"]
