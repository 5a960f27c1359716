"""Run the API as a real uvicorn process (for crash tests and fuzzing over real HTTP).

The process is configured the way a pod is: environment variables only. It is started with
`python -m uvicorn api.serve:app_from_environment --factory`, on a free loopback port, with
its output in a log file the failure messages quote.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.support.api_harness import JWT_SECRET
from tests.support.services import ChromaServer, ServiceFailed, free_port

REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass
class ApiProcess:
    """A running API process: its URL, environment and log, and ways to crash it."""

    port: int
    env: dict[str, str]
    log: Path
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_text(self) -> str:
        """Everything the process printed so far."""
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def kill(self) -> None:
        """SIGKILL, as the OOM killer or a node failure would: no shutdown code runs."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        """SIGTERM (a normal pod shutdown), then SIGKILL if it lingers."""
        if self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.kill()

    def restart(self, timeout: float = 180.0) -> None:
        """Start again with the same port and environment, and wait until it is ready."""
        self.stop()
        self.process = _spawn(self.port, self.env, self.log)
        wait_ready(self, timeout)


def _spawn(port: int, env: Mapping[str, str], log: Path) -> subprocess.Popen[bytes]:
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "api.serve:app_from_environment",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    with open(log, "ab") as out:
        return subprocess.Popen(
            command, env=dict(env), cwd=REPO_ROOT, stdout=out, stderr=subprocess.STDOUT
        )


def wait_ready(api: ApiProcess, timeout: float) -> None:
    """Return when GET /ready answers 200; fail with the log tail otherwise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if api.process.poll() is not None:
            raise ServiceFailed(
                f"the API exited with {api.process.returncode}:\n{api.log_text()[-4000:]}"
            )
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{api.url}/ready", timeout=5).status_code == 200:
                return
        time.sleep(0.3)
    api.kill()
    raise ServiceFailed(f"the API was not ready after {timeout:.0f}s:\n{api.log_text()[-4000:]}")


def _offline_env(settings_env: Mapping[str, str]) -> dict[str, str]:
    return {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "ANONYMIZED_TELEMETRY": "False",
        "PYTHONUNBUFFERED": "1",
        **settings_env,
    }


@contextlib.contextmanager
def image_entrypoint_process(
    settings_env: Mapping[str, str], directory: Path, timeout: float = 180.0
) -> Iterator[ApiProcess]:
    """The API started as the image starts it (`python -m api.serve`, settings from the
    environment), so the server options `api.serve.run` passes to uvicorn are in force."""
    directory.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = _offline_env(
        {"HOST": "127.0.0.1", "PORT": str(port), "DATA_DIR": str(directory), **settings_env}
    )
    log = directory / "api.log"
    with open(log, "ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "api.serve"],
            env=env,
            cwd=REPO_ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    running = ApiProcess(port, env, log, process)
    try:
        wait_ready(running, timeout)
        yield running
    finally:
        running.stop()


@contextlib.contextmanager
def api_process(
    settings_env: Mapping[str, str], directory: Path, timeout: float = 180.0
) -> Iterator[ApiProcess]:
    """An API process configured by `settings_env` (on top of an offline-model environment)."""
    env = _offline_env(settings_env)
    directory.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = directory / "api.log"
    running = ApiProcess(port, env, log, _spawn(port, env, log))
    try:
        wait_ready(running, timeout)
        yield running
    finally:
        running.stop()


def pod_env(chroma: ChromaServer, users_file: Path, data_dir: Path, **extra: str) -> dict[str, str]:
    """What a pod's environment holds for the API against `chroma`: the test users and JWT
    key, a collection of its own, limits high enough for load tests; `extra` adds or
    overrides variables."""
    return {
        "RAGKUBE_ENV": "development",
        "DATA_DIR": str(data_dir),
        "CHROMA_HOST": chroma.host,
        "CHROMA_PORT": str(chroma.port),
        "CHROMA_COLLECTION_NAME": f"api{uuid.uuid4().hex[:12]}",
        "JWT_SECRET_KEY": JWT_SECRET,
        "USERS_FILE": str(users_file),
        "RATE_LIMIT_REQUESTS": "1000000",
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "WARNING",
        **extra,
    }
