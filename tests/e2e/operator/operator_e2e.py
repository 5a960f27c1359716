"""Helpers of the operator's end-to-end tests: kubectl/helm, polling, the operator process.

The chart is installed with helm; the operator runs as a local subprocess with the chart's
ServiceAccount token, so every test also proves that the chart's RBAC is sufficient. Each
test gets a namespace of its own.
"""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml

ROOT = Path(__file__).resolve().parents[3]
RELEASE = "rk"
RELEASE_NAMESPACE = "ragkube-system"
SERVICE_ACCOUNT = "rk-ragkube"
T = TypeVar("T")


@dataclass
class Kube:
    """kubectl and helm against the test cluster, with the admin's credentials."""

    kubeconfig: Path
    kubectl_path: Path
    helm_path: Path

    @property
    def env(self) -> dict[str, str]:
        """This process's environment with the admin kubeconfig."""
        return {**os.environ, "KUBECONFIG": str(self.kubeconfig)}

    def run(self, binary: Path, *args: str, stdin: str | None = None, check: bool = True) -> str:
        result = subprocess.run(
            [str(binary), *args], input=stdin, capture_output=True, text=True, env=self.env
        )
        if check and result.returncode != 0:
            raise AssertionError(f"{binary.name} {' '.join(args)} failed:\n{result.stderr}")
        return result.stdout if result.returncode == 0 else result.stderr

    def kubectl(self, *args: str, stdin: str | None = None, check: bool = True) -> str:
        """Run kubectl; on failure with check=False, return stderr."""
        return self.run(self.kubectl_path, *args, stdin=stdin, check=check)

    def helm(self, *args: str) -> str:
        """Run helm."""
        return self.run(self.helm_path, *args)

    def apply(self, namespace: str, obj: dict[str, Any] | str) -> str:
        """kubectl apply an object (dict or YAML text) into a namespace."""
        text = obj if isinstance(obj, str) else yaml.safe_dump(obj)
        return self.kubectl("apply", "-n", namespace, "-f", "-", stdin=text)

    def get(self, kind: str, name: str, namespace: str | None) -> dict[str, Any] | None:
        """An object as a dict, or None when it does not exist."""
        scope = ["-n", namespace] if namespace else []
        out = self.kubectl(
            "get", kind, name, *scope, "-o", "json", "--ignore-not-found", "--show-managed-fields"
        )
        return json.loads(out) if out.strip() else None

    def items(self, kind: str, namespace: str, selector: str = "") -> list[dict[str, Any]]:
        """Objects of a kind in a namespace."""
        args = ["get", kind, "-n", namespace, "-o", "json"]
        if selector:
            args += ["-l", selector]
        items: list[dict[str, Any]] = json.loads(self.kubectl(*args))["items"]
        return items

    def watch(self, kind: str, namespace: str, selector: str) -> subprocess.Popen[str]:
        """A `kubectl get --watch` of `kind`, started now: it prints a line (`kind/name`) for
        each object it lists or sees change, so the first line comes as soon as one exists."""
        command = [str(self.kubectl_path), "get", kind, "-n", namespace, "-l", selector]
        return subprocess.Popen(
            [*command, "--watch", "-o", "name"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=self.env,
        )


def next_line(process: subprocess.Popen[str], *, timeout: float, what: str) -> str:
    """The next line `process` prints; fail with `what` after `timeout`."""
    assert process.stdout is not None
    # poll, not select: select() cannot watch descriptors numbered 1024 or above.
    poller = select.poll()
    poller.register(process.stdout, select.POLLIN)
    line = process.stdout.readline() if poller.poll(timeout * 1000) else ""
    if not line:
        raise AssertionError(f"timed out after {timeout}s waiting for {what}")
    return line.strip()


def eventually(
    check: Callable[[], T | None],
    *,
    timeout: float = 60,
    what: str | Callable[[], str] = "",
) -> T:
    """Poll `check` until it returns something truthy; fail with `what` after `timeout`.

    `what` may be a function, called only on failure, for a description that must show the
    state at the end of the wait (an operator's log tail) rather than at its start.
    """
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.5)
    described = what() if callable(what) else what
    raise AssertionError(f"timed out after {timeout}s waiting for {described or check}: {last!r}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class OperatorProcess:
    """The operator as a subprocess (`kopf run`), restartable, with its log in a file."""

    kubeconfig: Path
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    health_port: int = field(default_factory=free_port)
    metrics_port: int = field(default_factory=free_port)

    def start(self) -> None:
        env = {
            **os.environ,
            "KUBECONFIG": str(self.kubeconfig),
            "PYTHONPATH": os.pathsep.join([str(ROOT / "operator"), str(ROOT)]),
            "RAGKUBE_OPERATOR_METRICS_PORT": str(self.metrics_port),
            "RAGKUBE_OPERATOR_LOG_FORMAT": "json",
        }
        env.pop("KUBERNETES_SERVICE_HOST", None)
        command = [
            sys.executable,
            "-m",
            "ragkube_operator",  # kopf's CLI on the image's event loop (see its __main__)
            "run",
            "--standalone",
            "--all-namespaces",
            "-m",
            "ragkube_operator.main",
            f"--liveness=http://127.0.0.1:{self.health_port}/healthz",
        ]
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(command, env=env, stdout=log, stderr=log, cwd=ROOT)
        eventually(self.healthy, timeout=60, what=f"operator liveness (log: {self.log_path})")

    def healthy(self) -> bool:
        if self.process is None or self.process.poll() is not None:
            raise AssertionError(f"the operator exited; log:\n{self.log_tail()}")
        try:
            url = f"http://127.0.0.1:{self.health_port}/healthz"
            with urllib.request.urlopen(url, timeout=2) as response:
                return bool(response.status == 200)
        except OSError:
            return False

    def kill(self) -> None:
        """SIGKILL: no cleanup, as when a node dies."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()

    def metrics(self) -> str:
        url = f"http://127.0.0.1:{self.metrics_port}/metrics"
        with urllib.request.urlopen(url, timeout=5) as response:
            text: str = response.read().decode()
            return text

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def service_account_kubeconfig(kube: Kube, path: Path) -> Path:
    """A kubeconfig that authenticates as the chart's ServiceAccount (a bound token)."""
    token = kube.kubectl(
        "create", "token", SERVICE_ACCOUNT, "-n", RELEASE_NAMESPACE, "--duration=4h"
    ).strip()
    admin = yaml.safe_load(kube.kubeconfig.read_text())
    context = next(c for c in admin["contexts"] if c["name"] == admin["current-context"])
    cluster = next(c for c in admin["clusters"] if c["name"] == context["context"]["cluster"])
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [cluster],
        "users": [{"name": "ragkube-operator", "user": {"token": token}}],
        "contexts": [
            {
                "name": "operator",
                "context": {"cluster": cluster["name"], "user": "ragkube-operator"},
            }
        ],
        "current-context": "operator",
    }
    path.write_text(yaml.safe_dump(config))
    return path


def rag_deployment(name: str, **spec: Any) -> dict[str, Any]:
    """A RagDeployment manifest with small resources (the nodes are simulated)."""
    return {
        "apiVersion": "ragkube.dev/v1alpha1",
        "kind": "RagDeployment",
        "metadata": {"name": name},
        "spec": spec,
    }


def condition(obj: dict[str, Any] | None, type_: str) -> dict[str, Any] | None:
    """A status condition of an object, or None."""
    for item in ((obj or {}).get("status") or {}).get("conditions") or []:
        if item["type"] == type_:
            return dict(item)
    return None
