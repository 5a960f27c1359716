"""Fixtures of the operator's end-to-end tests on the real control plane.

The chart is installed with helm; the operator runs as a local subprocess with the chart's
ServiceAccount token, so every test also proves that the chart's RBAC is sufficient. Each
test gets a namespace of its own.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from .operator_e2e import (
    RELEASE,
    RELEASE_NAMESPACE,
    ROOT,
    Kube,
    OperatorProcess,
    eventually,
    service_account_kubeconfig,
)


@pytest.fixture(scope="session")
def kube(kube_cluster: Any) -> Kube:
    """kubectl/helm helpers bound to the session's cluster."""
    return Kube(kube_cluster.kubeconfig, kube_cluster.kubectl, kube_cluster.helm)


@pytest.fixture(scope="session")
def chart(kube: Kube) -> str:
    """The chart installed with helm (CRDs, RBAC, the operator's ServiceAccount)."""
    kube.helm(
        "upgrade",
        "--install",
        RELEASE,
        str(ROOT / "charts" / "ragkube"),
        "--namespace",
        RELEASE_NAMESPACE,
        "--create-namespace",
    )
    eventually(
        lambda: kube.get("crd", "ragdeployments.ragkube.dev", None),
        timeout=30,
        what="the RagDeployment CRD",
    )
    return RELEASE


@pytest.fixture(scope="session")
def operator(
    kube: Kube, chart: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[OperatorProcess]:
    """The operator, running with the chart's ServiceAccount credentials."""
    directory = tmp_path_factory.mktemp("operator")
    kubeconfig = service_account_kubeconfig(kube, directory / "kubeconfig")
    process = OperatorProcess(kubeconfig, directory / "operator.log")
    process.start()
    yield process
    process.stop()


@pytest.fixture
def namespace(kube: Kube, operator: OperatorProcess) -> Iterator[str]:
    """A fresh namespace for one test, deleted afterwards."""
    name = f"op-{uuid.uuid4().hex[:8]}"
    kube.kubectl("create", "namespace", name)
    yield name
    kube.kubectl("delete", "namespace", name, "--wait=false")
