"""spec.redis.managed on a real API server, and the generated Redis pod really run.

The operator's Redis StatefulSet, ConfigMap and Secret are read back from the cluster; Debian's
redis-server runs with the generated redis.conf and users file, and two API processes,
configured from the generated API Deployment, share one rate-limit window through it.
"""

from __future__ import annotations

import shutil
import subprocess
import urllib.parse
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
from ragkube_operator.redis_config import REDIS_PORT

from ragkube_cli.pod_environment import container_environment
from tests.support.api_process import api_process
from tests.support.services import ChromaServer, free_port

from .local_pod import local_path, localise_config, materialise_mounts, referenced
from .operator_e2e import Kube, condition, eventually, rag_deployment

pytestmark = pytest.mark.e2e
LIMIT = 4


def _shared_state(kube: Kube, namespace: str, name: str, reason: str) -> dict[str, Any] | None:
    rd = kube.get("ragdeployment", name, namespace)
    found = condition(rd, "SharedState")
    return rd if found and found["reason"] == reason else None


def _events(kube: Kube, namespace: str, name: str, reason: str) -> list[dict[str, Any]]:
    return [
        e
        for e in kube.items("events", namespace)
        if e["involvedObject"]["name"] == name and e["reason"] == reason
    ]


def test_per_pod_state_is_reported_then_cleared_by_managed_redis(
    kube: Kube, namespace: str
) -> None:
    kube.apply(namespace, rag_deployment("state", api={"replicas": 2}))
    rd = eventually(
        lambda: _shared_state(kube, namespace, "state", "PerPodState"),
        timeout=60,
        what="SharedState PerPodState",
    )
    shared = condition(rd, "SharedState")
    assert shared is not None
    assert shared["status"] == "False"
    assert "rate-limit windows" in shared["message"]
    warning = eventually(
        lambda: _events(kube, namespace, "state", "PerPodState"), timeout=30, what="a Warning"
    )
    assert warning[0]["type"] == "Warning"

    kube.apply(namespace, rag_deployment("state", api={"replicas": 2}, redis={"managed": True}))
    rd = eventually(
        lambda: _shared_state(kube, namespace, "state", "ManagedRedis"),
        timeout=120,
        what="SharedState ManagedRedis once Redis is ready",
    )
    assert condition(rd, "SharedState")["status"] == "True"  # type: ignore[index]
    owner = rd["metadata"]["uid"]
    for kind, name in [
        ("statefulset", "state-redis"),
        ("service", "state-redis"),
        ("configmap", "state-redis-config"),
        ("networkpolicy", "state-redis"),
    ]:
        obj = eventually(lambda k=kind, n=name: kube.get(k, n, namespace), timeout=30, what=name)
        assert any(r["uid"] == owner for r in obj["metadata"]["ownerReferences"]), name
    secret = kube.get("secret", "state-secrets", namespace)
    assert secret is not None
    assert {"redis-password", "redis-url", "redis-users.acl"} <= set(secret["data"])
    claims = kube.items("persistentvolumeclaim", namespace, "app.kubernetes.io/component=redis")
    assert [c["metadata"]["name"] for c in claims] == ["data-state-redis-0"]
    deployment = kube.get("deployment", "state-api", namespace)
    env = deployment["spec"]["template"]["spec"]["containers"][0]["env"]  # type: ignore[index]
    redis_url = next(e for e in env if e["name"] == "REDIS_URL")
    assert redis_url["valueFrom"]["secretKeyRef"] == {"name": "state-secrets", "key": "redis-url"}
    kube.apply(namespace, rag_deployment("state", api={"replicas": 2}))
    eventually(
        lambda: kube.get("statefulset", "state-redis", namespace) is None,
        timeout=60,
        what="the Redis StatefulSet removed with spec.redis.managed off",
    )
    eventually(
        lambda: _shared_state(kube, namespace, "state", "PerPodState"),
        timeout=60,
        what="PerPodState again",
    )
    eventually(
        lambda: (
            sum(e.get("count", 1) for e in _events(kube, namespace, "state", "PerPodState")) >= 2
        ),
        timeout=30,
        what="a second Warning when the state is per pod again",
    )


def _objects(kube: Kube, namespace: str, pod: dict[str, Any]) -> dict[tuple[str, str], Any]:
    found: dict[tuple[str, str], Any] = {}
    for volume in pod.get("volumes") or []:
        if "configMap" in volume:
            name = volume["configMap"]["name"]
            found[("ConfigMap", name)] = kube.get("configmap", name, namespace)
        elif "secret" in volume:
            name = volume["secret"]["secretName"]
            found[("Secret", name)] = kube.get("secret", name, namespace)
    return found


@pytest.fixture
def generated(kube: Kube, namespace: str) -> dict[str, Any]:
    """A RagDeployment with managed Redis and a small rate limit, its children read back."""
    kube.apply(
        namespace,
        rag_deployment(
            "shared",
            api={"replicas": 2},
            redis={"managed": True},
            rateLimit={"requests": LIMIT, "windowSeconds": 300},
        ),
    )
    eventually(
        lambda: _shared_state(kube, namespace, "shared", "ManagedRedis"),
        timeout=120,
        what="managed Redis ready",
    )
    return {
        "redis": kube.get("statefulset", "shared-redis", namespace),
        "api": kube.get("deployment", "shared-api", namespace),
    }


@pytest.fixture
def local_redis(
    kube: Kube, namespace: str, generated: dict[str, Any], tmp_path: Path
) -> Iterator[int]:
    """Debian's redis-server run with the generated pod's command, config and users file."""
    pod = generated["redis"]["spec"]["template"]["spec"]
    container = pod["containers"][0]
    mounts = materialise_mounts(pod, container, _objects(kube, namespace, pod), tmp_path / "redis")
    port = free_port()
    binary = shutil.which(container["command"][0])
    assert binary is not None, f"{container['command'][0]} is not installed"
    config = Path(local_path(container["command"][1], mounts))
    # Only what cannot be the same off-cluster: the address, and where the mounts lie.
    localise_config(config, mounts)
    command = [binary, str(config), "--port", str(port), "--bind", "127.0.0.1"]
    secrets = {
        name: kube.get("secret", name, namespace) for name in referenced(container, "secret")
    }
    env = container_environment(container, configmaps={}, secrets=secrets)
    log = tmp_path / "redis.log"
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    try:
        probe = [
            part.replace(str(REDIS_PORT), str(port))
            for part in container["readinessProbe"]["exec"]["command"]
        ]
        eventually(
            lambda: (
                subprocess.run(probe, env=env, capture_output=True, check=False).returncode == 0
            ),
            timeout=30,
            what=f"the generated readiness probe to pass (log: {log})",
        )
        anonymous = subprocess.run(
            ["redis-cli", "-p", str(port), "get", "x"], capture_output=True, text=True, check=False
        )
        assert "NOAUTH" in anonymous.stdout + anonymous.stderr
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_two_api_processes_share_one_rate_limit_window_through_the_generated_redis(
    kube: Kube,
    namespace: str,
    generated: dict[str, Any],
    local_redis: int,
    chroma_server: ChromaServer,
    tmp_path: Path,
) -> None:
    container = generated["api"]["spec"]["template"]["spec"]["containers"][0]
    env = container_environment(
        container,
        configmaps={
            n: kube.get("configmap", n, namespace) for n in referenced(container, "configMap")
        },
        secrets={n: kube.get("secret", n, namespace) for n in referenced(container, "secret")},
    )
    url = urllib.parse.urlsplit(env["REDIS_URL"])
    assert url.hostname == f"shared-redis.{namespace}.svc"
    local_url = url._replace(netloc=f"{url.username}:{url.password}@127.0.0.1:{local_redis}")
    with ExitStack() as stack:
        apis = [
            stack.enter_context(
                api_process(
                    {
                        **{k: v for k, v in env.items() if k != "WEBHOOKS_FILE"},
                        "REDIS_URL": urllib.parse.urlunsplit(local_url),
                        "CHROMA_HOST": chroma_server.host,
                        "CHROMA_PORT": str(chroma_server.port),
                        "DATA_DIR": str(tmp_path / f"api-{index}"),
                    },
                    tmp_path / f"api-{index}",
                )
            )
            for index in range(2)
        ]
        codes = [
            httpx.get(f"{apis[turn % 2].url}/no-such-page", timeout=10).status_code
            for turn in range(LIMIT + 2)
        ]
    # One window for both: the fifth request is refused whichever process answers it.
    assert codes == [404] * LIMIT + [429, 429]
