"""``ragkube demo``: the platform end to end on a local control plane.

1. start the local control plane (hack/localcluster.py) and ``helm install`` the chart;
2. run the operator locally with the chart's ServiceAccount token (proving its RBAC);
3. apply a sample RagDeployment and wait until ``kubectl get ragdeployments`` shows it Ready;
4. start Chroma, the lexical index server and the API locally with exactly the settings the
   operator generated (each workload's environment, resolved from its ConfigMap and Secrets);
5. ingest the bundled sample corpus with a progress bar, ask a question, print the answer;
6. keep serving until Ctrl-C (or stop at once with ``--no-serve``), then clean everything up.
"""

from __future__ import annotations

import base64
import contextlib
import importlib.resources
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
import yaml
from rich.console import Console
from rich.panel import Panel
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn

from ragkube_cli.checkout import import_localcluster, repo_root
from ragkube_cli.pod_environment import container_environment
from ragkube_contract import index_server

NAMESPACE = "ragkube-demo"
OPERATOR_NAMESPACE = "ragkube-system"
RELEASE = "ragkube"
DEMO_USER = "demo"
DEFAULT_QUESTION = "How does ragkube combine dense and lexical retrieval?"

console = Console()


class DemoFailed(RuntimeError):
    """A demo step failed; the message says which and why."""


def _step(text: str) -> None:
    console.print(f"\n[bold cyan]==>[/] [bold]{text}[/]")


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Kube:
    """kubectl and helm bound to one kubeconfig."""

    def __init__(self, kubectl: Path, helm: Path, kubeconfig: str) -> None:
        self.kubectl = kubectl
        self.helm = helm
        self.kubeconfig = kubeconfig

    def run(self, *args: str, stdin: str | None = None, echo: bool = False) -> str:
        result = subprocess.run(
            [str(self.kubectl), "--kubeconfig", self.kubeconfig, *args],
            input=stdin,
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )
        if result.returncode != 0:
            raise DemoFailed(f"kubectl {' '.join(args)} failed: {result.stderr.strip()}")
        if echo:
            console.print(result.stdout.rstrip())
        return result.stdout

    def get(self, kind: str, name: str, namespace: str) -> dict[str, Any]:
        return dict(json.loads(self.run("get", kind, name, "-n", namespace, "-o", "json")))

    def helm_install(self, chart: Path) -> None:
        result = subprocess.run(
            [
                str(self.helm),
                "upgrade",
                "--install",
                RELEASE,
                str(chart),
                "--namespace",
                OPERATOR_NAMESPACE,
                "--create-namespace",
                "--kubeconfig",
                self.kubeconfig,
                "--wait",
                "--timeout",
                "3m",
            ],
            capture_output=True,
            text=True,
            check=False,
            timeout=240,
        )
        if result.returncode != 0:
            raise DemoFailed(f"helm install failed: {result.stderr.strip()}")
        console.print(result.stdout.strip().splitlines()[0] if result.stdout else "installed")


def _service_account_kubeconfig(kube: Kube, server_kubeconfig: str, out: Path) -> Path:
    """A kubeconfig for the operator's own ServiceAccount, so it runs with the chart's RBAC."""
    accounts = json.loads(
        kube.run(
            "get",
            "serviceaccounts",
            "-n",
            OPERATOR_NAMESPACE,
            "-l",
            f"app.kubernetes.io/instance={RELEASE}",
            "-o",
            "json",
        )
    )
    if not accounts["items"]:
        raise DemoFailed("the chart created no ServiceAccount for the operator")
    name = accounts["items"][0]["metadata"]["name"]
    token = kube.run("create", "token", name, "-n", OPERATOR_NAMESPACE, "--duration", "24h").strip()
    config = yaml.safe_load(Path(server_kubeconfig).read_text())
    config["users"] = [{"name": name, "user": {"token": token}}]
    for context in config["contexts"]:
        context["context"]["user"] = name
    out.write_text(yaml.safe_dump(config))
    out.chmod(0o600)
    return out


def _wait_until(
    check: Callable[[], bool],
    timeout: float,
    what: str,
    process: subprocess.Popen[bytes] | None = None,
    log: Path | None = None,
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            tail = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
            raise DemoFailed(f"{what}: the process exited with {process.returncode}\n{tail}")
        if check():
            return
        time.sleep(0.5)
    raise DemoFailed(f"timed out after {timeout:.0f}s waiting for {what}")


def _http_ok(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _secret_file(kube: Kube, ref_name: str, key: str, out: Path) -> Path:
    secret = kube.get("secret", ref_name, NAMESPACE)
    out.write_bytes(base64.b64decode(secret["data"][key]))
    out.chmod(0o600)
    return out


@contextlib.contextmanager
def _process(
    cmd: list[str],
    log: Path,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> Iterator[subprocess.Popen[bytes]]:
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            cmd, stdout=out, stderr=subprocess.STDOUT, env=env, stdin=subprocess.DEVNULL, cwd=cwd
        )
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def _sample_ragdeployment(root: Path) -> dict[str, Any]:
    rd = dict(yaml.safe_load((root / "samples" / "ragdeployment.yaml").read_text()))
    rd["metadata"]["namespace"] = NAMESPACE
    rd["spec"].setdefault("auth", {})["usersSecretRef"] = {
        "name": "demo-users",
        "key": "users.json",
    }
    return rd


def _users_secret(password: str) -> dict[str, Any]:
    import bcrypt

    users = {
        "users": [
            {
                "username": DEMO_USER,
                "password_hash": bcrypt.hashpw(
                    password.encode(), bcrypt.gensalt(rounds=10)
                ).decode(),
                "scopes": ["admin"],
            }
        ]
    }
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "demo-users", "namespace": NAMESPACE},
        "stringData": {"users.json": json.dumps(users)},
    }


def _ingest(base_url: str, token: str, files: list[tuple[str, bytes]]) -> int:
    """Upload each file with a progress bar; return how many were ingested."""
    failures: list[str] = []
    columns = (
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeRemainingColumn(),
    )
    started = time.monotonic()
    with (
        Progress(*columns, console=console) as progress,
        httpx.Client(
            base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=120
        ) as client,
    ):
        task = progress.add_task("ingesting", total=len(files), rate="")
        for done, (file_name, content) in enumerate(files, start=1):
            response = client.post("/documents", files={"files": (file_name, content)})
            body = response.json()
            if response.status_code >= 400 or any(
                not r.get("ok", True) for r in body.get("results", [])
            ):
                failures.append(f"{file_name}: {body}")
            rate = done / max(time.monotonic() - started, 1e-6)
            progress.update(task, advance=1, rate=f"{rate:.1f} docs/s")
    for failure in failures:
        console.print(f"[red]failed[/] {failure}")
    return len(files) - len(failures)


def _print_usage(base_url: str) -> None:
    """How to call the running endpoint with curl and both SDKs."""
    console.print(
        Panel.fit(
            f"""[bold]curl[/]
TOKEN=$(curl -s -X POST {base_url}/auth/login -d 'username={DEMO_USER}&password=PASSWORD' \\
        | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
curl -s -X POST {base_url}/query -H "Authorization: Bearer $TOKEN" \\
     -H 'Content-Type: application/json' -d '{{"query": "What is a RagDeployment?"}}'

[bold]Python[/] (ragkube_client)
from ragkube_client import RagkubeClient
with RagkubeClient("{base_url}") as client:
    client.login("{DEMO_USER}", "PASSWORD")
    print(client.query("What is a RagDeployment?").answer)

[bold]TypeScript[/] (@ragkube/client)
import {{ RagkubeClient }} from "@ragkube/client";
const client = new RagkubeClient("{base_url}");
await client.login("{DEMO_USER}", "PASSWORD");
console.log((await client.query("What is a RagDeployment?")).answer);""",
            title="ragkube is serving",
        )
    )


def run_demo(question: str, serve: bool, keep_cluster: bool) -> None:
    """Run every step; raise DemoFailed naming the step that failed."""
    lc: Any = import_localcluster()
    root = repo_root()
    bins = lc.binaries()
    workdir = Path(tempfile.mkdtemp(prefix="ragkube-demo-"))
    cluster_dir = workdir / "cluster"
    with contextlib.ExitStack() as cleanup:
        cleanup.callback(shutil.rmtree, workdir, True)
        _step(
            "Starting the local control plane (etcd, kube-apiserver, controller-manager, "
            "scheduler, kwok)"
        )
        try:
            state = lc.start(cluster_dir)
        except lc.ClusterError as err:
            raise DemoFailed(str(err)) from err
        if not keep_cluster:
            cleanup.callback(lc.clean, cluster_dir)
        kube = Kube(bins.kubectl, bins.helm, state.kubeconfig)
        console.print(f"API server {state.server}")

        _step("helm install charts/ragkube (CRDs, operator, RBAC)")
        kube.helm_install(root / "charts" / "ragkube")
        kube.run("get", "crds", echo=True)

        _step("Running the operator locally with the chart's ServiceAccount token")
        operator_kubeconfig = _service_account_kubeconfig(
            kube, state.kubeconfig, workdir / "operator.kubeconfig"
        )
        operator_env = {**os.environ, "KUBECONFIG": str(operator_kubeconfig)}
        operator_log = workdir / "operator.log"
        operator = cleanup.enter_context(
            _process(
                [
                    sys.executable,
                    "-m",
                    "ragkube_operator",  # kopf's CLI on the image's event loop
                    "run",
                    "--standalone",
                    "--all-namespaces",
                    "--liveness",
                    f"http://127.0.0.1:{_free_port()}/healthz",
                    "-m",
                    "ragkube_operator.main",
                ],
                operator_log,
                operator_env,
            )
        )

        _step(f"Applying a RagDeployment in namespace {NAMESPACE}")
        password = secrets.token_urlsafe(12)
        kube.run("create", "namespace", NAMESPACE)
        kube.run("apply", "-f", "-", stdin=json.dumps(_users_secret(password)))
        rd = _sample_ragdeployment(root)
        name = rd["metadata"]["name"]
        kube.run("apply", "-f", "-", stdin=json.dumps(rd))

        def ready() -> bool:
            status = kube.get("ragdeployment", name, NAMESPACE).get("status", {})
            return any(
                c.get("type") == "Ready" and c.get("status") == "True"
                for c in status.get("conditions", [])
            )

        _wait_until(ready, 180, "the RagDeployment to become Ready", operator, operator_log)
        kube.run("get", "ragdeployments", "-n", NAMESPACE, echo=True)

        _step("Starting Chroma and the API locally with the settings the operator generated")
        deployment = kube.get("deployment", f"{name}-api", NAMESPACE)
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        env = container_environment(
            container,
            configmaps={
                cm: kube.get("configmap", cm, NAMESPACE)
                for cm in _referenced(container, "configMap")
            },
            secrets={s: kube.get("secret", s, NAMESPACE) for s in _referenced(container, "secret")},
        )
        chroma_port, api_port = _free_port(), _free_port()
        chroma_log = workdir / "chroma.log"
        chroma = cleanup.enter_context(
            _process(
                [
                    str(Path(sys.executable).parent / "chroma"),
                    "run",
                    "--path",
                    str(workdir / "chroma"),
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(chroma_port),
                ],
                chroma_log,
            )
        )
        _wait_until(
            lambda: _http_ok(f"http://127.0.0.1:{chroma_port}/api/v2/heartbeat"),
            60,
            "Chroma",
            chroma,
            chroma_log,
        )
        index_url = _start_index_server(kube, name, workdir, cleanup)
        # Only what cannot be the same off-cluster changes: addresses and mounted file paths.
        local = {
            **env,
            index_server.LEXICAL_INDEX_URL_ENV: index_url,
            "CHROMA_HOST": "127.0.0.1",
            "CHROMA_PORT": str(chroma_port),
            "HOST": "127.0.0.1",
            "PORT": str(api_port),
            "DATA_DIR": str(workdir / "data"),
            "USERS_FILE": str(
                _secret_file(kube, "demo-users", "users.json", workdir / "users.json")
            ),
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "ANONYMIZED_TELEMETRY": "False",
        }
        local.pop("WEBHOOKS_FILE", None)
        shown = sorted(k for k in env if k not in local or local[k] == env[k])
        console.print(f"environment from the ConfigMap and Secrets: {', '.join(shown)}")
        api_log = workdir / "api.log"
        api = cleanup.enter_context(
            _process(
                [sys.executable, "-m", "ragkube_cli.main", "serve"],
                api_log,
                {**os.environ, **local},
            )
        )
        base_url = f"http://127.0.0.1:{api_port}"
        _wait_until(lambda: _http_ok(f"{base_url}/ready"), 180, "the API's /ready", api, api_log)
        console.print(f"API ready at {base_url}")

        token = httpx.post(
            f"{base_url}/auth/login", data={"username": DEMO_USER, "password": password}, timeout=30
        ).json()["access_token"]
        _step("Ingesting the sample corpus")
        corpus = importlib.resources.files("rag_core.sample_corpus")
        ingested = _ingest(
            base_url,
            token,
            [
                (f.name, f.read_bytes())
                for f in sorted(corpus.iterdir(), key=lambda f: f.name)
                if f.name.endswith(".md")
            ],
        )
        console.print(f"{ingested} documents ingested")

        _step(f"Asking: {question}")
        response = httpx.post(
            f"{base_url}/query",
            json={"query": question},
            headers={"Authorization": f"Bearer {token}"},
            timeout=120,
        )
        if response.status_code != 200:
            raise DemoFailed(f"query failed: {response.status_code} {response.text}")
        answer = response.json()
        console.print(
            Panel(answer["answer"], title=f"answer (confidence {answer['confidence']:.2f})")
        )
        for number, source in enumerate(answer["sources"], start=1):
            meta = source["metadata"]
            console.print(
                f"[{number}] {meta.get('source', meta.get('document_id'))} "
                f"(similarity {source['similarity']:.2f})"
            )
        console.print(f"\nDemo user: {DEMO_USER}  password: {password}")
        _print_usage(base_url)
        if serve:
            console.print("\nServing until Ctrl-C ...")
            while api.poll() is None and operator.poll() is None:
                time.sleep(1)
            raise DemoFailed("the API or the operator stopped; see their logs above")


def _start_index_server(kube: Kube, name: str, workdir: Path, cleanup: contextlib.ExitStack) -> str:
    """Run the generated index StatefulSet's container (`python -m ragkube_index`) locally
    with its own environment, and return its URL once its readiness probe passes."""
    statefulset = kube.get("statefulset", f"{name}-index", NAMESPACE)
    container = statefulset["spec"]["template"]["spec"]["containers"][0]
    env = container_environment(
        container,
        configmaps={},
        secrets={s: kube.get("secret", s, NAMESPACE) for s in _referenced(container, "secret")},
    )
    port = _free_port()
    env.update(
        {
            index_server.INDEX_HOST_ENV: "127.0.0.1",
            index_server.INDEX_PORT_ENV: str(port),
            index_server.INDEX_DATA_DIR_ENV: str(workdir / "lexical"),
        }
    )
    log = workdir / "index.log"
    # The image's `python` is this interpreter here; the rest of the command is as generated.
    command = [sys.executable, *container["command"][1:]]
    # From the checkout, where `ragkube_index` lies (as the API image holds it).
    process = cleanup.enter_context(_process(command, log, env, cwd=repo_root()))
    url = f"http://127.0.0.1:{port}"
    probe = container["readinessProbe"]["httpGet"]["path"]
    _wait_until(lambda: _http_ok(url + probe), 60, "the lexical index server", process, log)
    return url


def _referenced(container: dict[str, Any], kind: str) -> set[str]:
    """Names of the ConfigMaps (``kind="configMap"``) or Secrets a container reads."""
    names = {
        ref[f"{kind}Ref"]["name"] for ref in container.get("envFrom", []) if f"{kind}Ref" in ref
    }
    names |= {
        var["valueFrom"][f"{kind}KeyRef"]["name"]
        for var in container.get("env", [])
        if f"{kind}KeyRef" in var.get("valueFrom", {})
    }
    return names


def demo(
    question: Annotated[str, typer.Option(help="The question to ask.")] = DEFAULT_QUESTION,
    serve: Annotated[bool, typer.Option(help="Keep serving until Ctrl-C.")] = True,
    keep_cluster: Annotated[bool, typer.Option(help="Leave the control plane running.")] = False,
) -> None:
    """Run ragkube end to end on a local control plane: operator, RagDeployment, API, a query."""
    try:
        run_demo(question, serve, keep_cluster)
    except KeyboardInterrupt:
        console.print("\nInterrupted: cleaning up.")
    except DemoFailed as err:
        console.print(f"[red]error:[/] {err}")
        raise typer.Exit(1) from err
    console.print("Cleaned up.")
