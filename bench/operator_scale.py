"""Reconciling many RagDeployments: time to all Ready, operator peak RSS, ratio to the floor.

    python bench/operator_scale.py --count 200            # starts a local control plane
    KUBECONFIG=... python bench/operator_scale.py --existing --count 200

The floor is a plain client loop that server-side applies the very same child objects
(built by the operator's own builders) and waits for the same Deployments and StatefulSets
to be ready. The operator run creates the RagDeployments and waits for every one to report
phase Ready. Targets: ratio <= 3, operator peak RSS <= 200 MiB.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "operator"), str(ROOT / "hack")]

from ragkube_operator.children import plan  # noqa: E402
from ragkube_operator.kubeapi import KubeApi  # noqa: E402
from ragkube_operator.models import RagDeployment, RagDeploymentSpec  # noqa: E402

SPEC: dict[str, Any] = {
    "api": {"replicas": 1, "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}}},
    "vectorStore": {"chroma": {"resources": {"requests": {"cpu": "50m", "memory": "64Mi"}}}},
}


def kubectl(kubeconfig: Path, *args: str, stdin: str | None = None) -> str:
    import localcluster

    env = {**os.environ, "KUBECONFIG": str(kubeconfig)}
    result = subprocess.run(
        [str(localcluster.binaries().kubectl), *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    return result.stdout


def ready_workloads(kubeconfig: Path, namespace: str) -> int:
    """How many Deployments and StatefulSets in the namespace have every replica ready."""
    count = 0
    for kind in ("deployments", "statefulsets"):
        items = json.loads(kubectl(kubeconfig, "get", kind, "-n", namespace, "-o", "json"))
        for item in items["items"]:
            wanted = item["spec"].get("replicas", 1)
            if (item.get("status") or {}).get("readyReplicas", 0) >= wanted:
                count += 1
    return count


def ready_rag_deployments(kubeconfig: Path, namespace: str) -> int:
    items = json.loads(kubectl(kubeconfig, "get", "ragdeployments", "-n", namespace, "-o", "json"))
    return sum(1 for i in items["items"] if (i.get("status") or {}).get("phase") == "Ready")


def wait(check: Any, target: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check() >= target:
            return
        time.sleep(1)
    raise SystemExit(f"timed out waiting for {target} (last: {check()})")


async def floor_run(kubeconfig: Path, namespace: str, count: int) -> None:
    api = KubeApi.from_environment(kubeconfig)
    try:
        spec = RagDeploymentSpec.model_validate(SPEC)
        values = {"jwt-secret-key": "j" * 64, "chroma-auth-token": "t" * 64}
        for index in range(count):
            rd = RagDeployment(name=f"rag-{index:03d}", namespace=namespace, spec=spec)
            desired = plan(
                rd, secret_values=values, webhooks=[], hmac_keys={}, monitoring_served=False
            )
            await asyncio.gather(*(api.apply(obj) for obj in desired.apply))
    finally:
        api.close()


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--existing", action="store_true", help="use $KUBECONFIG's cluster")
    parser.add_argument("--timeout", type=float, default=900)
    args = parser.parse_args()

    import localcluster

    directory = None
    if args.existing:
        kubeconfig = Path(os.environ["KUBECONFIG"])
    else:
        directory = Path(tempfile.mkdtemp(prefix="ragkube-bench-"))
        kubeconfig = Path(localcluster.start(directory).kubeconfig)
    try:
        kubectl(kubeconfig, "apply", "--server-side", "-f", str(ROOT / "crds"))
        stamp = int(time.time())
        floor_ns, operator_ns = f"bench-floor-{stamp}", f"bench-operator-{stamp}"
        for namespace in (floor_ns, operator_ns):
            kubectl(kubeconfig, "create", "namespace", namespace)

        started = time.perf_counter()
        asyncio.run(floor_run(kubeconfig, floor_ns, args.count))
        wait(lambda: ready_workloads(kubeconfig, floor_ns), 2 * args.count, args.timeout)
        floor_seconds = time.perf_counter() - started
        kubectl(kubeconfig, "delete", "namespace", floor_ns, "--wait=false")

        env = {
            **os.environ,
            "KUBECONFIG": str(kubeconfig),
            "PYTHONPATH": os.pathsep.join([str(ROOT / "operator"), str(ROOT)]),
            "RAGKUBE_OPERATOR_METRICS_PORT": "0",
        }
        log = (Path(tempfile.gettempdir()) / f"ragkube-bench-operator-{stamp}.log").open("wb")
        operator = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "ragkube_operator",  # kopf's CLI on the image's event loop
                "run",
                "--standalone",
                "-n",
                operator_ns,
                "-m",
                "ragkube_operator.main",
            ],
            env=env,
            stdout=log,
            stderr=log,
        )
        try:
            time.sleep(3)
            manifests = [
                {
                    "apiVersion": "ragkube.dev/v1alpha1",
                    "kind": "RagDeployment",
                    "metadata": {"name": f"rag-{index:03d}", "namespace": operator_ns},
                    "spec": SPEC,
                }
                for index in range(args.count)
            ]
            started = time.perf_counter()
            kubectl(kubeconfig, "apply", "-f", "-", stdin=yaml.safe_dump_all(manifests))
            wait(lambda: ready_rag_deployments(kubeconfig, operator_ns), args.count, args.timeout)
            operator_seconds = time.perf_counter() - started
            rss = peak_rss_mib(operator.pid)
        finally:
            operator.terminate()
            operator.wait(timeout=30)
        kubectl(kubeconfig, "delete", "namespace", operator_ns, "--wait=false")
    finally:
        if directory is not None:
            localcluster.clean(directory)

    ratio = operator_seconds / floor_seconds
    print(f"RagDeployments:              {args.count}")
    print(f"floor (client loop) to ready: {floor_seconds:8.1f} s")
    print(f"operator to all Ready:        {operator_seconds:8.1f} s")
    print(f"ratio operator / floor:       {ratio:8.2f}   (target <= 3)")
    print(f"operator peak RSS:            {rss:8.1f} MiB (target <= 200)")


if __name__ == "__main__":
    main()
