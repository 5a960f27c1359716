"""Start and stop real Redis and Chroma servers on free loopback ports."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServiceFailed(RuntimeError):
    """A service could not start; the message carries its log tail."""


def _wait(
    check: Callable[[], bool], proc: subprocess.Popen[bytes], name: str, log: Path, timeout: float
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ServiceFailed(f"{name} exited with {proc.returncode}:\n{_tail(log)}")
        if check():
            return
        time.sleep(0.2)
    proc.kill()
    raise ServiceFailed(f"{name} not ready after {timeout:.0f}s:\n{_tail(log)}")


def _tail(log: Path, lines: int = 30) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:]) if log.exists() else ""


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


@dataclass
class RedisServer:
    """A running redis-server process."""

    port: int
    directory: Path
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        _stop(self.process)

    def restart(self) -> None:
        """Start again on the same port and data directory (for fault tests)."""
        self.process = _spawn_redis(self.port, self.directory).process


def _spawn_redis(port: int, directory: Path) -> RedisServer:
    binary = shutil.which("redis-server")
    if binary is None:
        raise ServiceFailed("redis-server not found: `apt-get install -y redis-server`")
    log = directory / "redis.log"
    proc = subprocess.Popen(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(directory),
            "--save",
            "",
            "--appendonly",
            "yes",
            "--protected-mode",
            "yes",
            "--logfile",
            str(log),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def ping() -> bool:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
        return False

    _wait(ping, proc, "redis-server", log, 30)
    return RedisServer(port, directory, proc)


@contextlib.contextmanager
def redis_server(directory: Path) -> Iterator[RedisServer]:
    """A real redis-server on a free loopback port, stopped on exit."""
    server = _spawn_redis(free_port(), directory)
    try:
        yield server
    finally:
        server.stop()


class _ServerProcess:
    """Stopping and crashing a server process (for fault tests)."""

    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        _stop(self.process)

    def kill(self) -> None:
        """SIGKILL, as a crash would (for fault tests)."""
        self.process.kill()
        self.process.wait(timeout=10)


@dataclass
class ChromaServer(_ServerProcess):
    """A running ``chroma run`` server."""

    host: str
    port: int
    directory: Path
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def restart(self) -> None:
        """Start again on the same port and data directory."""
        self.process = _spawn_chroma(self.port, self.directory).process


def _chroma_binary() -> str:
    candidate = Path(sys.executable).parent / "chroma"
    found = str(candidate) if candidate.exists() else shutil.which("chroma")
    if found is None:
        raise ServiceFailed("the `chroma` command is missing: pip install chromadb")
    return found


def _spawn_chroma(port: int, directory: Path) -> ChromaServer:
    log = directory / "chroma.log"
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            [
                _chroma_binary(),
                "run",
                "--path",
                str(directory / "data"),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=directory,
        )

    def heartbeat() -> bool:
        try:
            url = f"http://127.0.0.1:{port}/api/v2/heartbeat"
            with urllib.request.urlopen(url, timeout=2) as resp:
                return int(resp.status) == 200
        except (urllib.error.URLError, OSError):
            return False

    _wait(heartbeat, proc, "chroma", log, 60)
    return ChromaServer("127.0.0.1", port, directory, proc)


@contextlib.contextmanager
def chroma_server(directory: Path) -> Iterator[ChromaServer]:
    """A real Chroma server on a free loopback port with its data in ``directory``."""
    server = _spawn_chroma(free_port(), directory)
    try:
        yield server
    finally:
        server.stop()


@dataclass
class IndexServer(_ServerProcess):
    """A running lexical index server (`python -m ragkube_index`)."""

    port: int
    directory: Path
    token: str
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def restart(self) -> None:
        """Start again on the same port, token and data directory."""
        self.process = _spawn_index(self.port, self.directory, self.token).process


def _spawn_index(port: int, directory: Path, token: str, max_collections: int = 64) -> IndexServer:
    directory.mkdir(parents=True, exist_ok=True)
    log = directory / "index.log"
    env = {
        "PATH": "/usr/bin:/bin",
        "INDEX_DATA_DIR": str(directory / "lexical"),
        "INDEX_HOST": "127.0.0.1",
        "INDEX_PORT": str(port),
        "INDEX_AUTH_TOKEN": token,
        "INDEX_MAX_COLLECTIONS": str(max_collections),
    }
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "ragkube_index"],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=Path(__file__).resolve().parents[2],
        )

    def ready() -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/ready", timeout=2) as resp:
                return int(resp.status) == 200
        except (urllib.error.URLError, OSError):
            return False

    _wait(ready, proc, "index server", log, 60)
    return IndexServer(port, directory, token, proc)


@contextlib.contextmanager
def index_server(directory: Path, token: str, max_collections: int = 64) -> Iterator[IndexServer]:
    """A real lexical index server on a free loopback port with its index in ``directory``."""
    server = _spawn_index(free_port(), directory, token, max_collections)
    try:
        yield server
    finally:
        server.stop()
