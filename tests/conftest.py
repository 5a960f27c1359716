"""Session fixtures that start real services: Redis, a Chroma server, a Kubernetes control plane.

Each fixture starts its service on a free loopback port, fails loudly with the service's log
when it cannot start, and stops it at the end of the session. Nothing here is ever skipped.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support import services
from tests.support.services import ChromaServer, IndexServer, RedisServer

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")


@pytest.fixture(scope="session")
def redis_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A real redis-server process (stop/restart it for fault tests)."""
    with services.redis_server(tmp_path_factory.mktemp("redis")) as server:
        yield server


@pytest.fixture(scope="session")
def redis_url(redis_service: RedisServer) -> str:
    """URL of the session's real Redis server."""
    return redis_service.url


@pytest.fixture(scope="session")
def chroma_server_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChromaServer]:
    """A real `chroma run` server with its data in a temp dir."""
    with services.chroma_server(tmp_path_factory.mktemp("chroma")) as server:
        yield server


@pytest.fixture(scope="session")
def chroma_server(chroma_server_process: ChromaServer) -> ChromaServer:
    """The session's Chroma server (``.host``, ``.port``, ``.url``)."""
    return chroma_server_process


@pytest.fixture(scope="session")
def index_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexServer]:
    """A real lexical index server (`python -m ragkube_index`) with a generated token; tests
    keep apart by collection name, as they do on the Chroma server."""
    import secrets

    with services.index_server(tmp_path_factory.mktemp("index"), secrets.token_urlsafe(32)) as s:
        yield s


@dataclass(frozen=True)
class KubeCluster:
    """How to reach the cluster the e2e tests run against."""

    kubeconfig: Path
    kubectl: Path
    helm: Path
    server: str
    local: bool


@pytest.fixture(scope="session")
def kube_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KubeCluster]:
    """The real local control plane (etcd, kube-apiserver, controller-manager, scheduler, kwok).

    With ``RAGKUBE_E2E_EXISTING_CLUSTER=1`` and ``KUBECONFIG`` set, the same tests run against
    an existing cluster (kind, k3d, a real one) instead.
    """
    import localcluster  # hack/ is on pythonpath

    bins = localcluster.build(verbose=False)
    if os.environ.get("RAGKUBE_E2E_EXISTING_CLUSTER") == "1":
        kubeconfig = os.environ.get("KUBECONFIG")
        if not kubeconfig:
            pytest.fail("RAGKUBE_E2E_EXISTING_CLUSTER=1 needs KUBECONFIG to point at the cluster")
        yield KubeCluster(Path(kubeconfig), bins.kubectl, bins.helm, "", local=False)
        return
    directory = tmp_path_factory.mktemp("cluster")
    try:
        state = localcluster.start(directory)
    except localcluster.ClusterError as err:
        localcluster.clean(directory)
        pytest.fail(f"the local control plane did not start: {err}")
    try:
        yield KubeCluster(Path(state.kubeconfig), bins.kubectl, bins.helm, state.server, local=True)
    finally:
        localcluster.clean(directory)
