"""The lexical index server of every RagDeployment on a real API server, and its pod really run.

The operator's index StatefulSet, Service, NetworkPolicy and generated token are read back
from the cluster; `python -m ragkube_index` then runs with the generated pod's command and
environment, and an API process configured from the generated API Deployment writes to it
and answers lexical and hybrid queries through it with the generated token.
"""

from __future__ import annotations

import subprocess
import sys
import urllib.parse
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.auth import TokenService
from ragkube_cli.pod_environment import container_environment
from ragkube_contract import index_server
from tests.support.api_harness import CORPUS
from tests.support.api_process import api_process
from tests.support.services import ChromaServer, free_port

from .local_pod import local_path, materialise_mounts, referenced
from .operator_e2e import ROOT, Kube, condition, eventually, rag_deployment

pytestmark = pytest.mark.e2e


def _lexical_index_ready(kube: Kube, namespace: str, name: str) -> dict[str, Any] | None:
    rd = kube.get("ragdeployment", name, namespace)
    found = condition(rd, "LexicalIndexReady") if rd else None
    return rd if found and found["status"] == "True" else None


def _owned_by(obj: dict[str, Any], rd: dict[str, Any]) -> bool:
    return any(
        ref["uid"] == rd["metadata"]["uid"] and ref.get("controller")
        for ref in obj["metadata"].get("ownerReferences", [])
    )


def _container(workload: dict[str, Any]) -> dict[str, Any]:
    container: dict[str, Any] = workload["spec"]["template"]["spec"]["containers"][0]
    return container


def _environment(kube: Kube, namespace: str, container: dict[str, Any]) -> dict[str, str]:
    """The container's variables as the kubelet would resolve them."""
    return container_environment(
        container,
        configmaps={
            n: kube.get("configmap", n, namespace) for n in referenced(container, "configMap")
        },
        secrets={n: kube.get("secret", n, namespace) for n in referenced(container, "secret")},
    )


def test_every_deployment_gets_its_index_server_owned_probed_fenced_and_repaired(
    kube: Kube, namespace: str
) -> None:
    kube.apply(namespace, rag_deployment("lex", api={"replicas": 1}))
    rd = eventually(
        lambda: _lexical_index_ready(kube, namespace, "lex"),
        timeout=90,
        what="LexicalIndexReady",
    )
    # It was NotCreated on the first reconcile; becoming ready is told as an Event too.
    announced = eventually(
        lambda: [
            e
            for e in kube.items("events", namespace)
            if e["involvedObject"]["name"] == "lex" and e["reason"] == "LexicalIndexReady"
        ],
        timeout=30,
        what="a LexicalIndexReady Event",
    )
    assert announced[0]["type"] == "Normal"
    assert "lexical index server pods are ready" in announced[0]["message"]
    for kind in ("statefulset", "service", "networkpolicy"):
        obj = kube.get(kind, "lex-index", namespace)
        assert obj is not None, kind
        assert _owned_by(obj, rd), kind
    statefulset = kube.get("statefulset", "lex-index", namespace)
    assert statefulset is not None
    container = _container(statefulset)
    assert container["command"] == ["python", "-m", "ragkube_index"]
    assert container["readinessProbe"]["httpGet"]["path"] == index_server.INDEX_READINESS_PATH
    assert container["livenessProbe"]["httpGet"]["path"] == index_server.INDEX_LIVENESS_PATH
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    claims = kube.items(
        "persistentvolumeclaim", namespace, "app.kubernetes.io/component=lexical-index"
    )
    assert [c["metadata"]["name"] for c in claims] == ["data-lex-index-0"]
    policy = kube.get("networkpolicy", "lex-index", namespace)
    assert policy is not None
    assert policy["spec"]["podSelector"]["matchLabels"]["app.kubernetes.io/component"] == (
        "lexical-index"
    )
    source = policy["spec"]["ingress"][0]["from"][0]["podSelector"]["matchLabels"]
    assert (source["app.kubernetes.io/instance"], source["app.kubernetes.io/component"]) == (
        "lex",
        "api",
    )
    assert policy["spec"]["ingress"][0]["ports"][0]["port"] == index_server.INDEX_PORT
    secret = kube.get("secret", "lex-secrets", namespace)
    assert secret is not None
    token = secret["data"]["lexical-index-token"]

    kube.kubectl("delete", "service", "lex-index", "-n", namespace)
    eventually(
        lambda: kube.get("service", "lex-index", namespace),
        timeout=30,
        what="the deleted index Service restored",
    )
    kube.kubectl("scale", "statefulset/lex-index", "--replicas=3", "-n", namespace)
    eventually(
        lambda: (kube.get("statefulset", "lex-index", namespace) or {})["spec"]["replicas"] == 1,
        timeout=30,
        what="the hand-scaled index StatefulSet back at 1 replica",
    )
    kube.apply(namespace, rag_deployment("lex", api={"replicas": 2}))
    eventually(
        lambda: (kube.get("deployment", "lex-api", namespace) or {})["spec"]["replicas"] == 2,
        timeout=30,
        what="the spec change applied",
    )
    again = kube.get("secret", "lex-secrets", namespace)
    assert again is not None
    assert again["data"]["lexical-index-token"] == token  # read back, never regenerated


@pytest.fixture
def generated(kube: Kube, namespace: str) -> dict[str, Any]:
    """A RagDeployment's index StatefulSet and API Deployment, read back from the cluster."""
    kube.apply(namespace, rag_deployment("gen", api={"replicas": 1}))
    eventually(
        lambda: _lexical_index_ready(kube, namespace, "gen"), timeout=90, what="LexicalIndexReady"
    )
    return {
        "index": kube.get("statefulset", "gen-index", namespace),
        "api": kube.get("deployment", "gen-api", namespace),
    }


@pytest.fixture
def local_index(
    kube: Kube, namespace: str, generated: dict[str, Any], tmp_path: Path
) -> Iterator[str]:
    """`python -m ragkube_index` run with the generated pod's command and environment."""
    pod = generated["index"]["spec"]["template"]["spec"]
    container = pod["containers"][0]
    mounts = materialise_mounts(pod, container, {}, tmp_path / "index")
    env = _environment(kube, namespace, container)
    port = free_port()
    # Only what cannot be the same off-cluster: the address, and where the volume lies.
    env[index_server.INDEX_HOST_ENV] = "127.0.0.1"
    env[index_server.INDEX_PORT_ENV] = str(port)
    env[index_server.INDEX_DATA_DIR_ENV] = local_path(env[index_server.INDEX_DATA_DIR_ENV], mounts)
    assert container["command"][0] == "python"
    command = [sys.executable, *container["command"][1:]]
    log = tmp_path / "index.log"
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        probe = container["readinessProbe"]["httpGet"]["path"]

        def probe_passes() -> bool:
            assert process.poll() is None, log.read_text()
            try:
                return httpx.get(url + probe, timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        eventually(probe_passes, timeout=60, what=f"the generated readiness probe (log: {log})")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_an_api_built_from_the_generated_deployment_queries_the_generated_index_server(
    kube: Kube,
    namespace: str,
    generated: dict[str, Any],
    local_index: str,
    chroma_server: ChromaServer,
    tmp_path: Path,
) -> None:
    env = _environment(kube, namespace, _container(generated["api"]))
    url = urllib.parse.urlsplit(env[index_server.LEXICAL_INDEX_URL_ENV])
    assert (url.hostname, url.port) == (f"gen-index.{namespace}.svc", index_server.INDEX_PORT)
    token = env[index_server.LEXICAL_INDEX_TOKEN_ENV]
    collection = f"gen{uuid.uuid4().hex[:12]}"  # the session's Chroma is shared by tests
    stats = local_index + index_server.STATS_PATH.format(collection=collection)
    refused = httpx.get(stats, timeout=10)
    assert refused.status_code == 401
    assert (
        httpx.get(stats, headers={"Authorization": "Bearer wrong"}, timeout=10).status_code == 401
    )

    with api_process(
        {
            **{k: v for k, v in env.items() if k != "WEBHOOKS_FILE"},
            index_server.LEXICAL_INDEX_URL_ENV: local_index,
            "CHROMA_HOST": chroma_server.host,
            "CHROMA_PORT": str(chroma_server.port),
            "CHROMA_COLLECTION_NAME": collection,
            "DATA_DIR": str(tmp_path / "api"),
        },
        tmp_path / "api",
    ) as api:
        issuer = TokenService(
            env["JWT_SECRET_KEY"],
            env["JWT_ALGORITHM"],
            int(env["JWT_EXPIRE_MINUTES"]),
            env["APP_NAME"],
        )
        auth = {"Authorization": f"Bearer {issuer.issue('tester', ['query', 'ingest'])}"}
        ingested = httpx.post(
            f"{api.url}/documents", json={"documents": CORPUS}, headers=auth, timeout=120
        )
        assert ingested.status_code == 201, ingested.text
        held = httpx.get(stats, headers={"Authorization": f"Bearer {token}"}, timeout=10)
        assert held.status_code == 200, held.text
        assert held.json()["chunks"] >= len(CORPUS)
        answers = {
            mode: httpx.post(
                f"{api.url}/query",
                json={"query": "lexical ranking function term frequency", "mode": mode},
                headers=auth,
                timeout=120,
            )
            for mode in ("lexical", "hybrid")
        }
    for mode, answer in answers.items():
        assert answer.status_code == 200, (mode, answer.text)
        top = answer.json()["sources"][0]["metadata"]
        assert top.get("document_id") == "bm25", (mode, top)
